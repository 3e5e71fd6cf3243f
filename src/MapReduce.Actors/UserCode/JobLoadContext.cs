using System.Reflection;
using System.Runtime.Loader;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// The collectible load context of one job project: its assembly and the assemblies of the
/// packages it ships are resolved from its own folder through its .deps.json (so a job may use
/// another version of a library than the worker does), native libraries too. The SDK resolves to
/// the worker's own copy: Count and TotalOrder reach the running attempt through its one slot,
/// and [MapReduceJob] and the interfaces are the types the binder looks for. Framework assemblies
/// come from the default context, as they are not in the folder.
/// </summary>
public sealed class JobLoadContext(string mainAssemblyPath, string codeId) : AssemblyLoadContext($"user-code-{codeId}", isCollectible: true)
{
    private readonly AssemblyDependencyResolver _resolver = new(mainAssemblyPath);

    protected override Assembly? Load(AssemblyName name)
    {
        if (name.Name == JobArchive.SharedAssembly) return null;
        return _resolver.ResolveAssemblyToPath(name) is { } path ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) =>
        _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } path ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
}
