namespace MapReduce.Actors.Master;

/// <summary>
/// Finished jobs on their way out of the master's memory: a job is archived once both its final
/// catalog row is written and its leftovers in the store were deleted (or given up on).
/// </summary>
public sealed class ArchiveTracker
{
    private readonly Dictionary<JobId, (bool Projected, bool CleanedUp)> _pending = new();

    public void Start(JobId job) => _pending[job] = (false, false);

    /// <summary>Records one of the two; true when the job may now be archived (it is then forgotten here).</summary>
    public bool Done(JobId job, bool projected = false, bool cleanedUp = false)
    {
        if (!_pending.TryGetValue(job, out var progress)) return false;
        progress = (progress.Projected || projected, progress.CleanedUp || cleanedUp);
        if (!progress.Projected || !progress.CleanedUp)
        {
            _pending[job] = progress;
            return false;
        }
        _pending.Remove(job);
        return true;
    }
}

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
