using Akka.Actor;

namespace MapReduce.Actors.Master;

/// <summary>Messages the job master (the cluster singleton) answers, from submitters and workers.</summary>
public static class MasterProtocol
{
    public sealed record SubmitJob(string CodeId, string DirId, int Reducers);

    public sealed record JobAccepted(string ExecId, int MapTasks, int ReduceTasks);

    public sealed record JobRejected(string Reason);

    /// <summary>
    /// Deletes a stored dataset (an uploaded input or a job's result): its catalog rows and chunks.
    /// Refused while a job that has not finished reads it. Answered with <see cref="DatasetDeleted"/>
    /// or <see cref="DeleteRejected"/>.
    /// </summary>
    public sealed record DeleteDataset(string DirId);

    public sealed record DatasetDeleted(string DirId, int Chunks, long Bytes);

    public sealed record DeleteRejected(string Reason);

    /// <summary>
    /// Asks for a job's status. With the counts the caller already knows, the master holds the
    /// question until they change or about a second has passed (a long poll): progress and the end
    /// of a job reach the submitter at once, and a question lost in a failover is simply asked again.
    /// </summary>
    public sealed record GetJobStatus(string ExecId, int KnownMapsDone = -1, int KnownReducesDone = -1);

    public sealed record JobStatus(
        string ExecId,
        string Status,
        int MapsDone,
        int MapsTotal,
        int ReducesDone,
        int ReducesTotal,
        string? Error,
        string? ResultDirId,
        string[] ResultParts)
    {
        public bool IsFinished => Status is Storage.Catalog.ExecutionStatus.Success or Storage.Catalog.ExecutionStatus.Failure;
    }

    public sealed record UnknownJob(string ExecId);

    /// <summary>
    /// A worker announces itself and its slots (TASKS_PER_WORKER), and repeats it every few seconds
    /// so that a master started after a failover learns about every worker.
    /// </summary>
    public sealed record RegisterWorker(IActorRef Worker, int Slots, RunningAttempt[] Running);

    /// <summary>An attempt a worker is running; after a failover the new master adopts these instead of starting them again.</summary>
    public sealed record RunningAttempt(string ExecId, string TaskId, string AttemptId);

    /// <summary>A worker is shutting down (SIGTERM): its tasks are re-queued at once, not after the failure detector notices.</summary>
    public sealed record WorkerLeaving(IActorRef Worker);

    public sealed record MapTaskSucceeded(string ExecId, string TaskId, string AttemptId, int[] PairsPerPartition);

    public sealed record ReduceTaskSucceeded(string ExecId, string TaskId, string AttemptId, string OutputKey, long Lines);

    public enum FailureKind
    {
        /// <summary>task.csx does not compile: retrying cannot help, the job fails at once.</summary>
        CompileError,
        /// <summary>Map, Combine or Reduce threw: retried up to the attempt limit.</summary>
        UserCode,
        /// <summary>Storage or network trouble: retried.</summary>
        Infrastructure,
    }

    public sealed record TaskAttemptFailed(string ExecId, string TaskId, string AttemptId, FailureKind Kind, string Error);

    /// <summary>The worker had no free slot (it should not happen; the master re-queues the task).</summary>
    public sealed record TaskRejected(string ExecId, string TaskId, string AttemptId);
}
