using MapReduce.Actors.Protocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// When a job ends, decided from its state after an event: it succeeds once every reduce task is
/// done; it fails when a task has failed max-task-attempts counted times (with the task, its input
/// and the last error), or at once on a failure that fails the job (a compile error), or when it
/// has skipped more bad records than it may (<see cref="BadRecords.OverLimit"/>). Pure: the
/// master journals what it returns in the same write as the event that caused it.
/// </summary>
public static class JobEnding
{
    /// <param name="job">The job as <paramref name="cause"/> left it.</param>
    /// <param name="failsJob">The reason, when <paramref name="cause"/> is a failure that fails the job at once.</param>
    /// <returns>JobSucceeded or JobFailed, or null while the job goes on.</returns>
    /// <param name="maxSkippedRecords">mapreduce.max-skipped-records.</param>
    public static IMasterEvent? After(JobState job, IMasterEvent cause, int maxTaskAttempts, DateTime now, string? failsJob = null, int maxSkippedRecords = int.MaxValue)
    {
        if (job.IsFinished) return null;
        switch (cause)
        {
            case ReduceSucceeded when job.AllReducesDone:
                return new JobSucceeded(job.Id.Value, job.ResultDatasetId, BlobKeys.ResultParts(job.Id, job.PartAttempts()), now);
            case TaskFailed when failsJob is not null:
                return new JobFailed(job.Id.Value, failsJob, now);
            case TaskFailed failed when TaskId.TryParse(failed.TaskId, out var id) && job.HasTask(id)
                                                          && job.Task(id) is { IsDone: false } task && task.CountedFailures >= maxTaskAttempts:
                return new JobFailed(job.Id.Value, $"{task.Describe()} failed {task.CountedFailures} times; last error: {failed.Error}", now);
            case RecordSkipped when BadRecords.OverLimit(job, maxSkippedRecords) is { } reason:
                return new JobFailed(job.Id.Value, reason, now);
            default:
                return null;
        }
    }
}
