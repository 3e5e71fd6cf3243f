using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using MapReduce.Sdk;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// Compiles task.csx with Roslyn scripting and binds its Map / Reduce / Reducer / Combine functions
/// by name and signature (<see cref="JobBinder"/>). The assembly is emitted into a collectible AssemblyLoadContext (the
/// scripting runtime's own loader never unloads), so dropping a compiled task frees its code.
/// </summary>
public static class ScriptCompiler
{
    public const string ScriptFileName = "task.csx";

    private static readonly string[] Imports =
    [
        "System", "System.Linq", "System.Collections.Generic", "System.Text", "System.IO",
        "System.Globalization", "System.Text.RegularExpressions",
        // The records of --input-format csv and jsonl: Map(string docId, CsvRow row), Map(string docId, JsonElement record).
        "System.Text.Json", typeof(CsvRow).Namespace!,
        // A type among the imports is a `using static`: scripts call Count(...) as a plain function.
        typeof(JobFunctions).FullName!,
    ];

    private static readonly ScriptOptions Options = ScriptOptions.Default
        .WithImports(Imports)
        .AddReferences(typeof(Enumerable).Assembly, typeof(Regex).Assembly, typeof(System.Collections.Immutable.ImmutableArray).Assembly,
            typeof(JobFunctions).Assembly, typeof(System.Text.Json.JsonElement).Assembly,
            typeof(Worker.ProcessExitWatch).Assembly) // what ExitCallRedirect points Environment.Exit at
        .WithOptimizationLevel(OptimizationLevel.Release)
        .WithFilePath(ScriptFileName)
        .WithEmitDebugInformation(false)
        .WithAllowUnsafe(false);

    /// <summary>
    /// Compiles a tiny script once, so Roslyn's own code is loaded and jitted before the first job
    /// arrives: a worker's first real compile then takes a fraction of a second instead of seconds.
    /// </summary>
    public static void WarmUp() => Compile("""
        IEnumerable<(string, int)> Map(string docId, string chunk) { yield return (chunk, chunk.Length); }
        int Combine(string key, IEnumerable<int> values) => values.Sum();
        int Reduce(string key, IEnumerable<int> values) => values.Sum();
        """, "warm-up");

    public static IUserTask Compile(string source, string codeId = "task") => CompileToImage(source, codeId).Task;

    /// <summary>Compiles and binds, and also returns the emitted assembly, which <see cref="Load"/> binds again without Roslyn.</summary>
    public static (IUserTask Task, byte[] Image) CompileToImage(string source, string codeId = "task")
    {
        var image = CompileImage(source);
        return (Load(image, codeId), image);
    }

    /// <summary>Compiles task.csx into an assembly image; none of the script's code runs.</summary>
    public static byte[] CompileImage(string source) => Emit(CSharpScript.Create(source, Options), source, null);

    /// <summary>
    /// Compiles task.csx for a debugger (--in-process): unoptimized, with a portable PDB embedded in
    /// the image whose document is <paramref name="sourcePath"/>, checksummed over the file's own
    /// bytes, so a breakpoint set in that file binds and a stack trace names it with line numbers.
    /// </summary>
    public static byte[] CompileDebugImage(byte[] source, string sourcePath)
    {
        var options = Options.WithOptimizationLevel(OptimizationLevel.Debug).WithEmitDebugInformation(true)
            .WithFilePath(Path.GetFullPath(sourcePath)).WithFileEncoding(System.Text.Encoding.UTF8);
        var script = CSharpScript.Create(new MemoryStream(source, writable: false), options);
        return Emit(script, System.Text.Encoding.UTF8.GetString(source), new EmitOptions(debugInformationFormat: DebugInformationFormat.Embedded));
    }

    private static byte[] Emit(Script script, string source, EmitOptions? emitOptions)
    {
        var compilation = script.GetCompilation();
        var redirected = ExitCallRedirect.Apply(compilation, source);
        if (redirected != compilation && Errors(compilation.GetDiagnostics()) is { Count: > 0 } sourceErrors)
            throw new CompileErrorException(FormatDiagnostics(sourceErrors)); // at the user's lines and columns, not the rewritten ones
        using var pe = new MemoryStream();
        var emitted = redirected.Emit(pe, options: emitOptions);
        var errors = Errors(emitted.Diagnostics);
        if (!emitted.Success || errors.Count > 0)
            throw new CompileErrorException(FormatDiagnostics(errors));
        if (compilation.ScriptClass?.MetadataName is { } name && name != ScriptClassName)
            throw new InvalidOperationException($"the script class is {name}, not {ScriptClassName}");
        return pe.ToArray();
    }

    private static List<Diagnostic> Errors(IEnumerable<Diagnostic> diagnostics) => diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

    /// <summary>The class Roslyn names a first (and only) submission; an emitted image is bound by it.</summary>
    private const string ScriptClassName = "Submission#0";

    /// <summary>Binds an image <see cref="CompileToImage"/> emitted, in a collectible load context of its own: <see cref="LoadImage"/>, then <see cref="LoadedCode.Start"/>.</summary>
    public static IUserTask Load(byte[] image, string codeId) => LoadImage(image, codeId).Start();

    /// <summary>
    /// Loads an image into a collectible load context of its own and finds the script's factory;
    /// none of the script's code runs. Throws what the runtime throws for an image it cannot load
    /// (<see cref="BadImageFormatException"/>, <see cref="TypeLoadException"/>, ...).
    /// </summary>
    public static LoadedCode LoadImage(byte[] image, string codeId)
    {
        var context = new AssemblyLoadContext($"user-code-{codeId}", isCollectible: true);
        try
        {
            var assembly = context.LoadFromStream(new MemoryStream(image, writable: false));
            var type = assembly.GetType(ScriptClassName, throwOnError: true)!;
            var factory = type.GetMethod("<Factory>", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
                          ?? throw new InvalidOperationException("the compiled script has no factory method");
            var usesTotalOrder = CallsTotalOrder(image);
            // Runs the script's top-level code (user code: it may throw, or never return) and binds its functions.
            return new LoadedCode(context, usesTotalOrder, () =>
            {
                var submission = CreateSubmission(factory);
                return JobBinder.Create(JobBinder.Check(JobBinder.ScriptFunctions(submission.GetType()), ScriptFileName, usesTotalOrder), submission);
            });
        }
        catch
        {
            context.Unload();
            throw;
        }
    }

    /// <summary>Whether a compiled assembly refers to <see cref="JobFunctions.TotalOrder"/> (however it calls it): read from its metadata.</summary>
    internal static bool CallsTotalOrder(byte[] image)
    {
        using var pe = new PEReader(System.Collections.Immutable.ImmutableArray.Create(image));
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.MemberReferences)
        {
            var member = metadata.GetMemberReference(handle);
            if (metadata.StringComparer.Equals(member.Name, nameof(JobFunctions.TotalOrder))
                && member.Parent.Kind == HandleKind.TypeReference
                && metadata.StringComparer.Equals(metadata.GetTypeReference((TypeReferenceHandle)member.Parent).Name, nameof(JobFunctions)))
                return true;
        }
        return false;
    }

    /// <summary>"task.csx(3,9): error CS0103: The name 'x' does not exist ..." one per line, as compilers print them.</summary>
    private static string FormatDiagnostics(IEnumerable<Diagnostic> errors)
    {
        var lines = errors.Take(20).Select(d =>
        {
            var span = d.Location.GetLineSpan();
            var where = span.IsValid ? $"{ScriptFileName}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1})" : ScriptFileName;
            return $"{where}: error {d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
        }).ToList();
        return "task.csx does not compile:\n" + string.Join('\n', lines);
    }

    /// <summary>
    /// Runs the script's top-level code the way the scripting runtime does: the submission class's
    /// static factory creates the instance, stores it in the submission array and runs its initializer.
    /// </summary>
    private static object CreateSubmission(MethodInfo factory)
    {
        var submissionArray = new object?[2];
        try
        {
            var run = (Task)factory.Invoke(null, [submissionArray])!;
            run.GetAwaiter().GetResult();
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new UserCodeException($"task.csx threw while starting: {e.InnerException.GetType().Name}: {e.InnerException.Message}", e.InnerException);
        }
        catch (Exception e) when (e is not UserCodeException)
        {
            throw new UserCodeException($"task.csx threw while starting: {e.GetType().Name}: {e.Message}", e);
        }
        return submissionArray[1] ?? throw new InvalidOperationException("the compiled script did not create its submission");
    }
}
