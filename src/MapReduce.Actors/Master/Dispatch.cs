using MapReduce.Actors.Protocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// Turns the <see cref="Scheduler"/>'s decisions into values: the events to journal (one
/// TaskStarted each, the attempt numbered after the task's last) and the messages to send once they
/// are journaled, so attempt numbers survive a take-over. Pure: tested without actors.
/// </summary>
public static class Dispatch
{
    /// <summary>What to journal, then what to send to whom.</summary>
    public sealed record Plan<TWorker>(List<TaskStarted> Events, List<(TWorker Worker, object Message)> Messages);

    /// <param name="address">How the journal names a worker (its node's address).</param>
    /// <param name="backup">The decisions are backups of running attempts (<see cref="Speculation"/>).</param>
    public static Plan<TWorker> Of<TWorker>(IEnumerable<Scheduler.Decision<TWorker>> decisions, MasterState state, Func<TWorker, string> address, DateTime now,
        bool backup = false)
    {
        var plan = new Plan<TWorker>([], []);
        foreach (var d in decisions)
        {
            var job = state.Jobs[d.Job];
            var task = job.Task(d.Task);
            var attempt = new AttemptId(d.Job, d.Task, task.Attempts + 1);
            plan.Events.Add(new TaskStarted(d.Job.Value, d.Task.ToString(), attempt.Name, address(d.Worker), now, backup));
            plan.Messages.Add((d.Worker, d.Task.Kind == TaskKind.Map
                ? new RunMapTask(attempt, job.CodeId, task.Input!.Chunks(), job.Reducers, BadRecords.RunsByLine(job, task) ? BadRecords.SkippedOf(job, task) : null, Incremental: job.Lineage is not null)
                : new RunReduceTask(attempt, job.CodeId, job.MapAttemptsFor(d.Task.Index), job.Lineage is null ? null : job.ReusedRunsFor(d.Task.Index))));
        }
        return plan;
    }
}
