namespace MapReduce.Node;

/// <summary>
/// When to start a supervised node again after it exited: 1 s after its first exit, then 2 s, 4 s,
/// … up to 30 s between restarts; a node that stayed up 60 s starts over at 1 s. One instance per
/// node; time comes from the injected <see cref="TimeProvider"/>, so tests need no sleeps.
/// </summary>
public sealed class RestartBackoff(TimeProvider time)
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    /// <summary>A node up at least this long before it exits counts as healthy: its next delay is <see cref="FirstDelay"/> again.</summary>
    public static readonly TimeSpan ResetAfter = TimeSpan.FromSeconds(60);

    private DateTimeOffset _startedAt = time.GetUtcNow();

    /// <summary>Exits in a row, each less than <see cref="ResetAfter"/> after its start.</summary>
    private int _quickExits;

    /// <summary>Restarts so far, for the log (never reset).</summary>
    public int Restarts { get; private set; }

    /// <summary>The delay before the <paramref name="attempt"/>-th restart in a row (1-based): 1 s, 2 s, 4 s, … capped at 30 s.</summary>
    public static TimeSpan Delay(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        // 2^5 s already exceeds the cap; no need to compute (and overflow) larger powers.
        return attempt > 5 ? MaxDelay : TimeSpan.FromSeconds(Math.Min(MaxDelay.TotalSeconds, 1 << (attempt - 1)));
    }

    /// <summary>The node has just been (re)started.</summary>
    public void Started() => _startedAt = time.GetUtcNow();

    /// <summary>The node has just exited: how long to wait before starting it again. Counts the restart.</summary>
    public TimeSpan NextDelay()
    {
        if (time.GetUtcNow() - _startedAt >= ResetAfter) _quickExits = 0;
        _quickExits++;
        Restarts++;
        return Delay(_quickExits);
    }
}
