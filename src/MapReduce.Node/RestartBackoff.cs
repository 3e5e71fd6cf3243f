using MapReduce.Actors.Hosting;

namespace MapReduce.Node;

/// <summary>
/// When to start a supervised node again after it exited: 1 s after its first exit, then 2 s, 4 s,
/// … up to 30 s between restarts; a node that stayed up 60 s starts over at 1 s (those are
/// mapreduce.local.restart-backoff's defaults). One instance per node; time comes from the
/// injected <see cref="TimeProvider"/>, so tests need no sleeps.
/// </summary>
public sealed class RestartBackoff(TimeProvider time, NodeRestartSettings settings)
{
    private DateTimeOffset _startedAt = time.GetUtcNow();

    /// <summary>Exits in a row, each less than <see cref="NodeRestartSettings.ResetAfter"/> after its start.</summary>
    private int _quickExits;

    /// <summary>Restarts so far, for the log (never reset).</summary>
    public int Restarts { get; private set; }

    /// <summary>The node has just been (re)started.</summary>
    public void Started() => _startedAt = time.GetUtcNow();

    /// <summary>The node has just exited: how long to wait before starting it again. Counts the restart.</summary>
    public TimeSpan NextDelay()
    {
        if (time.GetUtcNow() - _startedAt >= settings.ResetAfter) _quickExits = 0;
        _quickExits++;
        Restarts++;
        return settings.Delays.Delay(_quickExits);
    }
}
