using Akka.Actor;

namespace MapReduce.Actors.Protocol;

/// <summary>Messages the job master (the cluster singleton) answers, from submitters and workers.</summary>
public static class MasterProtocol
{
    /// <summary>
    /// Runs code on a stored dataset; answered with <see cref="JobAccepted"/> once the job is journaled, or <see cref="JobRejected"/>.
    /// <see cref="SkipBadRecords"/>: skip lines on which Map fails every time (<see cref="BadRecords"/>); null: mapreduce.skip-bad-records.
    /// <see cref="Incremental"/>: reuse the map outputs (or the whole result) of earlier incremental jobs with the same content ids, and keep this job's.
    /// </summary>
    public sealed record SubmitJob(string CodeId, string DatasetId, int Reducers, bool? SkipBadRecords = null, bool Incremental = false);

    /// <summary><see cref="Reused"/>: nothing changed since the incremental job <see cref="JobId"/>, whose result is the answer; no job was started.</summary>
    public sealed record JobAccepted(JobId JobId, int MapTasks, int ReduceTasks, bool Reused = false);

    public sealed record JobRejected(string Reason);

    /// <summary>
    /// Deletes a stored dataset (an uploaded input or a job's result): its catalog rows and chunks.
    /// Refused while a job that has not finished reads it. Answered with <see cref="DatasetDeleted"/>
    /// or <see cref="DeleteRejected"/>.
    /// </summary>
    public sealed record DeleteDataset(string DatasetId);

    public sealed record DatasetDeleted(string DatasetId, int Chunks, long Bytes);

    public sealed record DeleteRejected(string Reason);

    /// <summary>
    /// Asks for a job's status. With the counts the caller already knows, the master holds the
    /// question until they change or about a second has passed (a long poll): progress and the end
    /// of a job reach the submitter at once, and a question lost in a failover is simply asked again.
    /// Answered with <see cref="JobStatus"/>, or <see cref="UnknownJob"/> for a job the master does
    /// not hold: one that ended and was archived is in the catalog, where the API's read model finds it.
    /// </summary>
    public sealed record GetJobStatus(JobId JobId, int KnownMapsDone = -1, int KnownReducesDone = -1);

    /// <summary>
    /// A job's progress. <see cref="PartAttempts"/> holds each partition's accepted reduce attempt
    /// (its output part's key follows from it, see <see cref="BlobKeys.ResultParts"/>): a few bytes
    /// per reducer, so the message stays far below the frame size whatever the job's width.
    /// <see cref="WaitingFor"/>: what a running job waits for before its tasks can go on (none: null or empty).
    /// </summary>
    public sealed record JobStatus(
        JobId JobId,
        JobStage Stage,
        int MapsDone,
        int MapsTotal,
        int ReducesDone,
        int ReducesTotal,
        string? Error,
        int[] PartAttempts,
        Wait[]? WaitingFor = null)
    {
        public bool IsFinished => Stage != JobStage.Running;

        public string ResultDatasetId => BlobKeys.ResultDatasetId(JobId);

        public string[] ResultParts() => BlobKeys.ResultParts(JobId, PartAttempts);
    }

    /// <summary>
    /// Something the running jobs wait for, as the master sees the cluster: <see cref="What"/> names
    /// it (a node role: "kvstore"), <see cref="Reason"/> says what is wrong ("unreachable", "not in
    /// the cluster"), <see cref="Since"/> when the master noticed (UTC). While it lasts no task is
    /// handed out; see <see cref="WaitTracker"/>.
    /// </summary>
    public sealed record Wait(string What, string Reason, DateTime Since);

    public sealed record UnknownJob(JobId JobId);

    /// <summary>
    /// Cancels a running job: answered with its <see cref="JobStatus"/> (stage Cancelled) once the
    /// cancel is journaled, or <see cref="CancelRejected"/> for a job that already ended, or
    /// <see cref="UnknownJob"/> (for an archived job too: the API then refuses it from its read model). Its running attempts are told to stop at once and its slots are
    /// free for other jobs; its intermediate data is deleted as for a failed job.
    /// </summary>
    public sealed record CancelJob(JobId JobId);

    public sealed record CancelRejected(string Reason);

    /// <summary>Asks for the workers the master hands tasks to; answered with <see cref="WorkerList"/>.</summary>
    public sealed record GetWorkers
    {
        public static readonly GetWorkers Instance = new();
    }

    /// <param name="Unavailable">Why it offers no slot now (its scratch disk is full), or null.</param>
    public sealed record WorkerInfo(string Address, int Slots, string[] Running, string? Unavailable = null);

    public sealed record WorkerList(WorkerInfo[] Workers);

    /// <summary>
    /// A worker announces itself and its slots (TASKS_PER_WORKER), and repeats it every few seconds
    /// so that a master started after a failover learns about every worker and what it still runs.
    /// </summary>
    /// <param name="Unavailable">Why it offers no slot (its scratch disk is full), or null.</param>
    public sealed record RegisterWorker(IActorRef Worker, int Slots, AttemptId[] Running, string? Unavailable = null);

    /// <summary>
    /// A worker is going away: stopped (SIGTERM: its tasks are re-queued at once, not after the
    /// failure detector notices), or its process is exiting under user code (<see cref="Exit"/>
    /// says with which code and, when user code called the exit, during which attempt).
    /// </summary>
    public sealed record WorkerLeaving(IActorRef Worker, WorkerExit? Exit = null);

    /// <summary>
    /// The process of a worker is exiting with <see cref="ExitCode"/>; <see cref="Culprit"/> is the attempt whose code called the exit, when known;
    /// <see cref="Line"/> the line it was mapping, when it mapped line by line (a job that skips bad records).
    /// </summary>
    public sealed record WorkerExit(int ExitCode, AttemptId? Culprit, InputLine? Line = null);

    /// <summary>A map attempt's runs are stored; <see cref="Counters"/> are its counters (TaskCounterNames and user.NAME).</summary>
    public sealed record MapTaskSucceeded(AttemptId Attempt, int[] PairsPerPartition, IReadOnlyDictionary<string, long>? Counters = null);

    public sealed record ReduceTaskSucceeded(AttemptId Attempt, long Lines, IReadOnlyDictionary<string, long>? Counters = null);

    public enum FailureKind
    {
        /// <summary>task.csx does not compile: retrying cannot help, the job fails at once.</summary>
        CompileError,
        /// <summary>Map, Combine or Reduce threw: retried up to the attempt limit.</summary>
        UserCode,
        /// <summary>Storage or network trouble: retried.</summary>
        Infrastructure,
        /// <summary>The attempt was stopped (it ran past task-timeout, or was cancelled), or its output came after its job ended and was discarded: already accounted for by the master.</summary>
        Stopped,
        /// <summary>The worker's scratch disk is full (ENOSPC): not the task's fault, so not counted; it runs again elsewhere.</summary>
        DiskFull,
    }

    /// <summary>An attempt failed; <see cref="Line"/>: the line Map threw on, when the attempt mapped line by line (a job that skips bad records).</summary>
    /// <param name="CorruptBlob">The blob the attempt found corrupt (its checksum did not match; <paramref name="Error"/> says how): a map run's map runs again, an input chunk fails the job.</param>
    public sealed record TaskAttemptFailed(AttemptId Attempt, FailureKind Kind, string Error, InputLine? Line = null, string? CorruptBlob = null);

    /// <summary>The worker had no free slot (it should not happen; the master re-queues the task).</summary>
    public sealed record TaskRejected(AttemptId Attempt);

    /// <summary>
    /// Asks which of a job's input chunks to sample keys from (a total-order sort samples them to
    /// choose its partition boundaries): answered with <see cref="KeySampleChunks"/>, at most
    /// <paramref name="Max"/> chunks spread evenly over the job's map inputs (see <see cref="KeySample"/>).
    /// </summary>
    public sealed record KeySampleRequest(string JobId, int Max);

    /// <summary>The chunks to sample, in input order; empty when the job is unknown or has ended.</summary>
    public sealed record KeySampleChunks(string JobId, MapChunk[] Chunks);
}
