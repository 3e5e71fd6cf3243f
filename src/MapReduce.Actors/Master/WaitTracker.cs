using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// What the master waits for before its tasks can go on (today the kvstore, as <see cref="RoleWatch"/>
/// reports it; the same shape fits other waits), since when, and when each wait last ended. Plain
/// state owned by the master actor; time is passed in, so a fake clock drives it in tests.
/// </summary>
public sealed class WaitTracker
{
    private readonly Dictionary<string, Wait> _current = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTime> _lastEnded = new(StringComparer.Ordinal);
    private Wait[] _snapshot = [];

    /// <summary>The waits that last now, oldest first (an empty array when none).</summary>
    public Wait[] Current => _snapshot;

    public bool Any => _snapshot.Length > 0;

    public bool IsWaitingFor(string what) => _current.ContainsKey(what);

    /// <summary>Starts waiting for <paramref name="what"/>; false (and nothing changes) when already waiting for it.</summary>
    public bool Begin(string what, string reason, DateTime now)
    {
        if (!_current.TryAdd(what, new Wait(what, reason, now))) return false;
        _snapshot = [.. _current.Values.OrderBy(w => w.Since).ThenBy(w => w.What, StringComparer.Ordinal)];
        return true;
    }

    /// <summary>Ends the wait for <paramref name="what"/>: how long it lasted, or null when there was none.</summary>
    public TimeSpan? End(string what, DateTime now)
    {
        if (!_current.Remove(what, out var wait)) return null;
        _lastEnded[what] = now;
        _snapshot = [.. _current.Values.OrderBy(w => w.Since).ThenBy(w => w.What, StringComparer.Ordinal)];
        return now - wait.Since;
    }

    /// <summary>
    /// Whether <paramref name="what"/> was waited for at any time from <paramref name="from"/> to now:
    /// it is waited for now, or the last wait for it ended at or after <paramref name="from"/> (any
    /// earlier wait ended before that one).
    /// </summary>
    public bool WasAwayDuring(string what, DateTime from) =>
        _current.ContainsKey(what) || (_lastEnded.TryGetValue(what, out var ended) && ended >= from);
}
