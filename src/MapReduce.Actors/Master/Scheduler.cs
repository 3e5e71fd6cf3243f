using MapReduce.Actors.Protocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// Decides which tasks go to which free slots: pure, so its order is tested without actors. The
/// master calls it after anything that frees a slot or makes a task runnable, and turns what it
/// returns into events and messages (<see cref="Dispatch"/>).
/// </summary>
public static class Scheduler
{
    /// <summary>A task to start, and the worker whose slot it takes.</summary>
    public readonly record struct Decision<TWorker>(JobId Job, TaskId Task, TWorker Worker);

    /// <summary>
    /// A job that may hand out work: <see cref="Running"/> attempts now, and <see cref="Next"/> gives
    /// its next task that may start (null when it has none), taking it.
    /// </summary>
    public sealed record JobQueue(JobId Job, DateTime SubmittedAt, int Running, Func<TaskId?> Next);

    /// <param name="jobs">Jobs that may hand out work.</param>
    /// <param name="freeSlots">Free slots per worker; used up as tasks are placed.</param>
    public static List<Decision<TWorker>> Plan<TWorker>(IEnumerable<JobQueue> jobs, Dictionary<TWorker, int> freeSlots, SchedulingPolicy policy)
        where TWorker : notnull
    {
        var decisions = new List<Decision<TWorker>>();
        var free = freeSlots.Values.Sum();
        if (free <= 0) return decisions;
        var queues = jobs.OrderBy(j => j.SubmittedAt).ThenBy(j => j.Job.Value, StringComparer.Ordinal).Select(j => new Queue(j)).ToList();
        while (free > 0)
        {
            var queue = Pick(queues, policy);
            if (queue is null) break;
            if (queue.Job.Next() is not { } task)
            {
                queues.Remove(queue);
                continue;
            }
            var worker = freeSlots.MaxBy(w => w.Value).Key;
            decisions.Add(new Decision<TWorker>(queue.Job.Job, task, worker));
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

    private sealed class Queue(JobQueue job)
    {
        public JobQueue Job { get; } = job;
        public int Running { get; set; } = job.Running;
    }
}
