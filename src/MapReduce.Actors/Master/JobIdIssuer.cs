using MapReduce.Actors.Protocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// Issues job ids no other job has: ids carry the second and 6 random hex digits only, so a burst
/// of submissions within one second would otherwise reuse one (1 in 3 for 5,000 in a second), and
/// the second JobSubmitted would overwrite the first job.
/// </summary>
public sealed class JobIdIssuer
{
    /// <summary>Job ids issued within the current second (the id's time stamp): a new id must differ from them.</summary>
    private readonly HashSet<JobId> _issuedThisSecond = [];
    private DateTime _second;

    /// <param name="taken">Whether a job of that id exists already (the master's state).</param>
    public JobId Next(DateTime now, Func<JobId, bool> taken)
    {
        var second = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
        if (second != _second)
        {
            _issuedThisSecond.Clear();
            _second = second;
        }
        JobId id;
        do id = JobId.New(now);
        while (taken(id) || !_issuedThisSecond.Add(id));
        return id;
    }
}
