using MapReduce.Actors.Protocol;

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
