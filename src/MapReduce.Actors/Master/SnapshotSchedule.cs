namespace MapReduce.Actors.Master;

/// <summary>
/// When the master snapshots: every <c>snapshot-after</c> events. A save that has not answered by
/// the time as many events again were written is presumed lost, and another is taken, so a dropped
/// reply cannot stop snapshots for good.
/// </summary>
public sealed class SnapshotSchedule(int every)
{
    private long _savedAt;
    private long? _requestedAt;

    public void Recovered(long sequenceNr) => _savedAt = sequenceNr;

    /// <summary>Whether to save a snapshot now, at <paramref name="sequenceNr"/>; if so, it counts as requested.</summary>
    public bool Due(long sequenceNr)
    {
        if (sequenceNr - (_requestedAt ?? _savedAt) < every) return false;
        _requestedAt = sequenceNr;
        return true;
    }

    public void Saved(long sequenceNr)
    {
        _savedAt = Math.Max(_savedAt, sequenceNr);
        if (_requestedAt <= sequenceNr) _requestedAt = null;
    }

    public void Failed() => _requestedAt = null;
}
