using System.Reflection;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// A job project's compiled code: its job class (marked with [MapReduceJob], or implementing
/// IMapper) found in its assembly and its functions checked by <see cref="JobBinder"/>, as
/// task.csx's are. Loading runs none of the job's code; <see cref="LoadedCode.Start"/> creates the
/// job class (its constructor is the job's first code, as task.csx's top-level code is).
/// </summary>
public static class ProjectJob
{
    /// <summary>
    /// Loads the job whose files are in <paramref name="folder"/> (an extracted archive) into a
    /// collectible context of its own, finds its class and checks its functions. A job that lacks
    /// them throws <see cref="CompileErrorException"/> naming the signatures expected.
    /// </summary>
    public static LoadedCode Load(string folder, string codeId)
    {
        string main;
        try { main = JobArchive.MainAssemblyIn(folder); }
        catch (JobArchiveException e) { throw new CompileErrorException(e.Message); }
        var context = new JobLoadContext(main, codeId);
        try
        {
            var assembly = context.LoadFromAssemblyPath(main);
            var type = JobClass(assembly);
            var what = $"{type.Name} ({Path.GetFileName(main)})";
            var usesTotalOrder = ScriptCompiler.CallsTotalOrder(File.ReadAllBytes(main));
            var shape = JobBinder.Check(JobBinder.ClassFunctions(type), what, usesTotalOrder);
            return new LoadedCode(context, usesTotalOrder, () => JobBinder.Create(shape, CreateJob(type, shape, what)));
        }
        catch
        {
            context.Unload();
            throw;
        }
    }

    /// <summary>
    /// A job class already loaded in this process (a test's reference to its job project), checked
    /// and bound as a worker binds it: its constructor runs here. Whether it calls TotalOrder is read
    /// from its assembly's file, as for an archive.
    /// </summary>
    public static IUserTask Bind(Type jobClass)
    {
        var what = $"{jobClass.Name} ({Path.GetFileName(jobClass.Assembly.Location)})";
        if (!JobBinder.IsJobClass(jobClass))
            throw new CompileErrorException($"{what} is not a job class: mark it with [MapReduceJob] (or implement IMapper<TKey, TValue>)");
        var usesTotalOrder = jobClass.Assembly.Location is { Length: > 0 } file && ScriptCompiler.CallsTotalOrder(File.ReadAllBytes(file));
        var shape = JobBinder.Check(JobBinder.ClassFunctions(jobClass), what, usesTotalOrder);
        return JobBinder.Create(shape, CreateJob(jobClass, shape, what));
    }

    /// <summary>Loads, checks and unloads: what the CLI does to a build before uploading it (no job code runs).</summary>
    public static void Check(string folder)
    {
        var loaded = Load(folder, "check");
        loaded.Unload();
    }

    /// <summary>The one job class of an assembly; none or several is a <see cref="CompileErrorException"/> that says what is expected.</summary>
    internal static Type JobClass(Assembly assembly)
    {
        Type[] types;
        try { types = assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e)
        {
            var first = e.LoaderExceptions.FirstOrDefault(x => x is not null);
            throw new CompileErrorException($"{assembly.GetName().Name}.dll cannot be loaded: {first?.Message ?? e.Message}");
        }
        var jobs = types.Where(JobBinder.IsJobClass).ToList();
        return jobs.Count switch
        {
            1 => jobs[0],
            0 => throw new CompileErrorException($"{assembly.GetName().Name}.dll has no job class: mark one class with [MapReduceJob] (or implement IMapper<TKey, TValue>) and give it IEnumerable<(TKey, TValue)> Map(string docId, string chunk) and TResult Reduce(TKey key, IEnumerable<TValue> values) (or ReduceLines, or Reducer)"),
            _ => throw new CompileErrorException($"{assembly.GetName().Name}.dll has {jobs.Count} job classes ({string.Join(", ", jobs.Select(t => t.FullName))}); mark exactly one"),
        };
    }

    /// <summary>The job object, or null when every function is static; its constructor is user code.</summary>
    internal static object? CreateJob(Type type, JobShape shape, string what)
    {
        var methods = new[] { shape.Functions.Map, shape.Functions.Reduce, shape.Functions.ReduceLines, shape.Functions.Reducer, shape.Functions.Combine, shape.Functions.Partition };
        if (methods.All(m => m is null || m.IsStatic)) return null;
        if (type.GetConstructor(Type.EmptyTypes) is null)
            throw new CompileErrorException($"{what} needs a public parameterless constructor (or make its functions static)");
        try
        {
            return Activator.CreateInstance(type);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new UserCodeException($"{what} threw while starting: {e.InnerException.GetType().Name}: {e.InnerException.Message}", e.InnerException);
        }
    }
}
