namespace MapReduce.Actors.Master;

/// <summary>
/// Decides which tasks go to which free slots: pure, so its order is tested without actors. The
/// master calls it after anything that frees a slot or makes a task runnable, and sends what it
/// returns (journaled first).
/// </summary>
public static class Scheduler
{
    /// <summary>A task to start, and the worker whose slot it takes.</summary>
    public readonly record struct Decision<TWorker>(JobId Job, TaskState Task, TWorker Worker);

    /// <param name="jobs">Jobs that may hand out work.</param>
    /// <param name="running">Attempts each job has running now (jobs not listed have none).</param>
    /// <param name="freeSlots">Free slots per worker; used up as tasks are placed.</param>
    /// <param name="mayStart">Whether a runnable task may start now (not already held by a worker, not waiting out a take-over).</param>
    public static List<Decision<TWorker>> Plan<TWorker>(
        IEnumerable<JobState> jobs,
        IReadOnlyDictionary<JobId, int> running,
        Dictionary<TWorker, int> freeSlots,
        Func<JobState, TaskState, bool> mayStart,
        SchedulingPolicy policy) where TWorker : notnull
    {
        var decisions = new List<Decision<TWorker>>();
        var free = freeSlots.Values.Sum();
        if (free <= 0) return decisions;
        var queues = jobs.OrderBy(j => j.SubmittedAt).ThenBy(j => j.Id.Value, StringComparer.Ordinal)
            .Select(j => new Queue(j, j.Runnable.Where(t => mayStart(j, t)).GetEnumerator(), running.GetValueOrDefault(j.Id)))
            .ToList();
        while (free > 0)
        {
            var queue = Pick(queues, policy);
            if (queue is null) break;
            if (!queue.Tasks.MoveNext())
            {
                queues.Remove(queue);
                continue;
            }
            var worker = freeSlots.MaxBy(w => w.Value).Key;
            decisions.Add(new Decision<TWorker>(queue.Job.Id, queue.Tasks.Current, worker));
            freeSlots[worker]--;
            free--;
            queue.Running++;
        }
        return decisions;
    }

    /// <summary>Fair: the job with the fewest attempts running (ties: the oldest); FIFO: the oldest.</summary>
    private static Queue? Pick(List<Queue> queues, SchedulingPolicy policy)
    {
        if (queues.Count == 0) return null;
        if (policy == SchedulingPolicy.Fifo) return queues[0];
        var best = queues[0];
        foreach (var q in queues)
            if (q.Running < best.Running) best = q;
        return best;
    }

    private sealed class Queue(JobState job, IEnumerator<TaskState> tasks, int running)
    {
        public JobState Job { get; } = job;
        public IEnumerator<TaskState> Tasks { get; } = tasks;
        public int Running { get; set; } = running;
    }
}
