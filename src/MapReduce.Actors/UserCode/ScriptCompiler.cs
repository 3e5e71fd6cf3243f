using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// Compiles task.csx with Roslyn scripting and binds its Map / Reduce / Reducer / Combine functions
/// by name and signature. The assembly is emitted into a collectible AssemblyLoadContext (the
/// scripting runtime's own loader never unloads), so dropping a compiled task frees its code.
/// </summary>
public static class ScriptCompiler
{
    public const string ScriptFileName = "task.csx";

    private static readonly string[] Imports =
    [
        "System", "System.Linq", "System.Collections.Generic", "System.Text", "System.IO",
        "System.Globalization", "System.Text.RegularExpressions",
        // A type among the imports is a `using static`: scripts call Count(...) as a plain function.
        typeof(ScriptFunctions).FullName!,
    ];

    private static readonly ScriptOptions Options = ScriptOptions.Default
        .WithImports(Imports)
        .AddReferences(typeof(Enumerable).Assembly, typeof(Regex).Assembly, typeof(System.Collections.Immutable.ImmutableArray).Assembly,
            typeof(ScriptFunctions).Assembly)
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
    public static byte[] CompileImage(string source)
    {
        var script = CSharpScript.Create(source, Options);
        var compilation = script.GetCompilation();
        var redirected = ExitCallRedirect.Apply(compilation, source);
        if (redirected != compilation && Errors(compilation.GetDiagnostics()) is { Count: > 0 } sourceErrors)
            throw new CompileErrorException(FormatDiagnostics(sourceErrors)); // at the user's lines and columns, not the rewritten ones
        using var pe = new MemoryStream();
        var emitted = redirected.Emit(pe);
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

    /// <summary>Binds an image <see cref="CompileToImage"/> emitted, in a collectible load context of its own: <see cref="LoadImage"/>, then <see cref="Start"/>.</summary>
    public static IUserTask Load(byte[] image, string codeId) => Start(LoadImage(image, codeId));

    /// <summary>
    /// Loads an image into a collectible load context of its own and finds the script's factory;
    /// none of the script's code runs. Throws what the runtime throws for an image it cannot load
    /// (<see cref="BadImageFormatException"/>, <see cref="TypeLoadException"/>, ...).
    /// </summary>
    public static LoadedScript LoadImage(byte[] image, string codeId)
    {
        var context = new AssemblyLoadContext($"user-code-{codeId}", isCollectible: true);
        var assembly = context.LoadFromStream(new MemoryStream(image, writable: false));
        var type = assembly.GetType(ScriptClassName, throwOnError: true)!;
        var factory = type.GetMethod("<Factory>", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
                      ?? throw new InvalidOperationException("the compiled script has no factory method");
        return new LoadedScript(factory, CallsTotalOrder(image));
    }

    /// <summary>Whether the compiled script refers to <see cref="ScriptFunctions.TotalOrder"/> (however it calls it): read from its metadata.</summary>
    private static bool CallsTotalOrder(byte[] image)
    {
        using var pe = new PEReader(System.Collections.Immutable.ImmutableArray.Create(image));
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.MemberReferences)
        {
            var member = metadata.GetMemberReference(handle);
            if (metadata.StringComparer.Equals(member.Name, nameof(ScriptFunctions.TotalOrder))
                && member.Parent.Kind == HandleKind.TypeReference
                && metadata.StringComparer.Equals(metadata.GetTypeReference((TypeReferenceHandle)member.Parent).Name, nameof(ScriptFunctions)))
                return true;
        }
        return false;
    }

    /// <summary>Runs the script's top-level code (user code: it may throw, or never return) and binds its functions.</summary>
    public static IUserTask Start(LoadedScript script) => Bind(CreateSubmission(script.Factory), script.CallsTotalOrder);

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

    private static IUserTask Bind(object submission, bool usesTotalOrder)
    {
        var methods = submission.GetType().GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly);
        var map = Single(methods, "Map")
                  ?? throw new CompileErrorException("task.csx must define: IEnumerable<(TKey, TValue)> Map(string docId, string chunk)");
        var mapParameters = map.GetParameters();
        var pairType = ElementOfEnumerable(map.ReturnType);
        if (mapParameters.Length != 2 || mapParameters[0].ParameterType != typeof(string) || mapParameters[1].ParameterType != typeof(string)
            || pairType is null || !IsPair(pairType))
            throw new CompileErrorException($"task.csx: Map must have the signature IEnumerable<(TKey, TValue)> Map(string docId, string chunk); found {Describe(map)}");
        var keyType = pairType.GetGenericArguments()[0];
        var valueType = pairType.GetGenericArguments()[1];

        var reduce = Single(methods, "Reduce");
        var reduceLines = Single(methods, "ReduceLines");
        var reducer = Single(methods, "Reducer");
        var combine = Single(methods, "Combine");
        var partition = Single(methods, "Partition");
        Type resultType;
        if (reduceLines is not null && (reduce ?? reducer) is { } other)
            throw new CompileErrorException($"task.csx defines both ReduceLines and {other.Name}; define one of Reduce, ReduceLines or Reducer");
        if (reduce is not null)
        {
            CheckKeyValues(reduce, keyType, valueType, "TResult Reduce(TKey key, IEnumerable<TValue> values)");
            resultType = reduce.ReturnType;
            if (resultType == typeof(void)) throw new CompileErrorException("task.csx: Reduce must return a value");
        }
        else if (reduceLines is not null)
        {
            CheckKeyValues(reduceLines, keyType, valueType, "IEnumerable<string> ReduceLines(TKey key, IEnumerable<TValue> values)");
            if (reduceLines.ReturnType != typeof(IEnumerable<string>))
                throw new CompileErrorException($"task.csx: ReduceLines must return IEnumerable<string> (each string one output line, written as it is); found {Describe(reduceLines)}");
            resultType = typeof(string);
        }
        else if (reducer is not null)
        {
            var parameters = reducer.GetParameters();
            var dictionary = typeof(IDictionary<,>).MakeGenericType(keyType, typeof(List<>).MakeGenericType(valueType));
            var resultPair = ElementOfEnumerable(reducer.ReturnType);
            if (parameters.Length != 1 || parameters[0].ParameterType != dictionary || resultPair is null || !IsPair(resultPair)
                || resultPair.GetGenericArguments()[0] != keyType)
                throw new CompileErrorException($"task.csx: Reducer must have the signature IEnumerable<(TKey, TResult)> Reducer(IDictionary<TKey, List<TValue>> keyValues) with the TKey and TValue of Map; found {Describe(reducer)}");
            resultType = resultPair.GetGenericArguments()[1];
        }
        else
        {
            throw new CompileErrorException("task.csx must define TResult Reduce(TKey key, IEnumerable<TValue> values), IEnumerable<string> ReduceLines(TKey key, IEnumerable<TValue> values) or IEnumerable<(TKey, TResult)> Reducer(IDictionary<TKey, List<TValue>> keyValues)");
        }
        if (combine is not null)
        {
            CheckKeyValues(combine, keyType, valueType, "TValue Combine(TKey key, IEnumerable<TValue> values)");
            if (combine.ReturnType != valueType)
                throw new CompileErrorException($"task.csx: Combine must return the value type of Map ({valueType.Name}); found {Describe(combine)}");
        }
        if (partition is not null)
        {
            var parameters = partition.GetParameters();
            if (parameters.Length != 2 || parameters[0].ParameterType != keyType || parameters[1].ParameterType != typeof(int) || partition.ReturnType != typeof(int))
                throw new CompileErrorException($"task.csx: Partition must have the signature int Partition(TKey key, int reducers) with TKey = {TypeName(keyType)} as Map yields; found {Describe(partition)}");
        }

        var taskType = typeof(CompiledTask<,,>).MakeGenericType(keyType, valueType, resultType);
        return (IUserTask)Activator.CreateInstance(taskType, submission, new UserFunctions(map, reduce, reduceLines, reducer, combine, partition, usesTotalOrder))!;
    }

    private static void CheckKeyValues(MethodInfo method, Type keyType, Type valueType, string signature)
    {
        var parameters = method.GetParameters();
        if (parameters.Length != 2 || parameters[0].ParameterType != keyType
            || parameters[1].ParameterType != typeof(IEnumerable<>).MakeGenericType(valueType))
            throw new CompileErrorException($"task.csx: {method.Name} must have the signature {signature} with TKey = {keyType.Name} and TValue = {valueType.Name} as Map yields; found {Describe(method)}");
    }

    private static MethodInfo? Single(MethodInfo[] methods, string name)
    {
        var found = methods.Where(m => m.Name == name).ToList();
        if (found.Count > 1) throw new CompileErrorException($"task.csx defines {found.Count} functions named {name}; define exactly one");
        return found.FirstOrDefault();
    }

    private static Type? ElementOfEnumerable(Type type)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)) return type.GetGenericArguments()[0];
        return type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
    }

    private static bool IsPair(Type type) => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ValueTuple<,>);

    private static string Describe(MethodInfo method) =>
        $"{TypeName(method.ReturnType)} {method.Name}({string.Join(", ", method.GetParameters().Select(p => $"{TypeName(p.ParameterType)} {p.Name}"))})";

    private static string TypeName(Type type) =>
        type.IsGenericType
            ? $"{type.Name[..type.Name.IndexOf('`')]}<{string.Join(", ", type.GetGenericArguments().Select(TypeName))}>"
            : type.Name;
}

/// <summary>A compiled script loaded into its own load context, its top-level code not yet run (<see cref="ScriptCompiler.Start"/> runs it).</summary>
public sealed record LoadedScript(MethodInfo Factory, bool CallsTotalOrder);
