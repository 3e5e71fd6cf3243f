using MapReduce.Actors.Protocol;

namespace MapReduce.Actors.Worker;

/// <summary>
/// Remembers why a worker's process is exiting, so that the master can blame the right task. User
/// code runs inside <see cref="RunAs"/>, and the compiler points its calls of
/// <c>Environment.Exit</c> at <see cref="ExitFromUserCode"/>, which notes the calling attempt before
/// exiting: the process-exit handler itself runs on the finalizer thread, which cannot tell who
/// called. Installed before the actor system starts, so it runs before Akka's own exit hook leaves
/// the cluster.
/// </summary>
public static class ProcessExitWatch
{
    private static readonly AsyncLocal<AttemptId?> Running = new();
    private static readonly AsyncLocal<LineCursor?> Mapping = new();

    /// <summary>The line an attempt that maps line by line is mapping (a job that skips bad records), for the master to hear if its Map exits the process.</summary>
    public sealed class LineCursor
    {
        private volatile InputLine? _current;

        public InputLine? Current => _current;

        /// <param name="linesBefore">Lines of the document before the chunk, when counted (<see cref="ChunkLines"/>).</param>
        public void Set(MapChunk chunk, long line, long? linesBefore = null) => _current = ChunkLines.Line(chunk, line, linesBefore);
    }
    private static int _installed;

    /// <summary>Set once the process is exiting: its exit code, and the attempt whose code called the exit, when known.</summary>
    public static MasterProtocol.WorkerExit? Exit { get; private set; }

    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Exit ??= new MasterProtocol.WorkerExit(Environment.ExitCode, Running.Value);
    }

    /// <summary>Runs user code of an attempt; anything it starts (tasks, threads from the pool) carries the attempt along.</summary>
    /// <param name="lines">Where the attempt notes the line it maps, when it maps line by line.</param>
    public static T RunAs<T>(AttemptId attempt, Func<T> userCode, LineCursor? lines = null)
    {
        Running.Value = attempt;
        Mapping.Value = lines;
        try { return userCode(); }
        finally
        {
            Running.Value = null;
            Mapping.Value = null;
        }
    }

    /// <summary>
    /// What task.csx's <c>Environment.Exit(code)</c> calls (<see cref="UserCode.ExitCallRedirect"/>):
    /// the attempt running on this thread is the culprit, then the process exits as asked.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void ExitFromUserCode(int exitCode)
    {
        if (Running.Value is { } attempt) Exit ??= new MasterProtocol.WorkerExit(exitCode, attempt, Mapping.Value?.Current);
        Environment.Exit(exitCode);
    }

    /// <summary>The worker exits on purpose (an attempt that would not stop): nobody else is to blame.</summary>
    public static void ExitingFor(AttemptId attempt, int exitCode) => Exit ??= new MasterProtocol.WorkerExit(exitCode, attempt);
}
