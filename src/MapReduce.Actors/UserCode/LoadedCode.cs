using System.Runtime.Loader;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// A job's code loaded into a collectible load context of its own (a compiled task.csx, or a job
/// project's assemblies), none of its code run yet: <see cref="Start"/> runs what the job runs first
/// (task.csx's top-level code, or the job class's constructor) and binds its functions.
/// <see cref="Unload"/> lets the runtime free the code once nothing refers to it any more.
/// </summary>
public sealed class LoadedCode
{
    private readonly AssemblyLoadContext _context;
    private readonly Func<IUserTask> _start;

    internal LoadedCode(AssemblyLoadContext context, bool callsTotalOrder, Func<IUserTask> start)
    {
        _context = context;
        _start = start;
        CallsTotalOrder = callsTotalOrder;
    }

    /// <summary>Whether the code refers to TotalOrder: its map tasks need the job's key ranges first.</summary>
    public bool CallsTotalOrder { get; }

    /// <summary>The load context; a weak reference to it tells a test when the code is gone.</summary>
    public AssemblyLoadContext Context => _context;

    /// <summary>Runs the job's own start (user code: it may throw, or never return) and binds its functions.</summary>
    public IUserTask Start() => _start();

    /// <summary>Starts unloading: the context goes once no object, thread or delegate refers to it. Loads nothing more after this.</summary>
    public void Unload() => _context.Unload();
}
