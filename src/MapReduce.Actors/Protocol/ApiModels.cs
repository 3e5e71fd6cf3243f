using System.Text.Json;
using System.Text.Json.Serialization;
using MapReduce.Storage.Catalog;

namespace MapReduce.Actors.Protocol;

/// <summary>The control API's bodies (docs/api.md), shared by the server on the master nodes and the CLI.</summary>
public static class ApiModels
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = false,
    };

    public sealed record ApiError(string Error);

    /// <summary>The message of an <see cref="ApiError"/> body, or the body as it is.</summary>
    public static string ErrorText(string body)
    {
        try { return JsonSerializer.Deserialize<ApiError>(body, Json)?.Error ?? body; }
        catch (JsonException) { return body; }
    }

    /// <param name="Unavailable">Why a worker offers no slot now (its scratch disk is full), or null.</param>
    public sealed record MemberInfo(string Address, string[] Roles, string Status, bool Reachable, int? Slots, string[] Running, string? Unavailable = null);

    public sealed record ClusterInfo(MemberInfo[] Members, string? Master);

    public sealed record IdleInfo(double IdleSeconds, int RunningJobs);

    public sealed record StoreInfo(string DataUrl, string StoreRoot, string StoreId);

    public sealed record CodeRegistration(string CodeId, string BlobKey, string Source);

    public sealed record DatasetRegistration(string DatasetId, string Source, int Documents, string ManifestKey);

    /// <summary>The answer to <see cref="CodeRegistration"/>: the id under the name the request gave it.</summary>
    public sealed record RegisteredCode(string CodeId);

    /// <summary>The answer to <see cref="DatasetRegistration"/>.</summary>
    public sealed record RegisteredDataset(string DatasetId);

    public sealed record DatasetInfo(string Id, string Kind, string? Source, int Documents, int Chunks, long Bytes, DateTime CreatedAt);

    public sealed record DatasetDeletion(string DatasetId, int Chunks, long Bytes);

    /// <summary>A job to run; <see cref="SkipBadRecords"/>: skip lines on which Map fails every time (null: mapreduce.skip-bad-records); <see cref="Incremental"/>: reuse what earlier incremental jobs left of the same input and code (--incremental).</summary>
    public sealed record JobRequest(string CodeId, string DatasetId, int Reducers, bool? SkipBadRecords = null, bool Incremental = false);

    /// <summary><see cref="Reused"/>: an incremental job found nothing changed since job <see cref="Id"/>, whose result is the answer (no job started).</summary>
    public sealed record JobCreated(string Id, int MapTasks, int ReduceTasks, bool Reused = false);

    /// <summary>
    /// Something a running job waits for before its tasks go on: <see cref="What"/> names it
    /// ("kvstore"), <see cref="Reason"/> says what is wrong ("unreachable", "not in the cluster"),
    /// <see cref="Since"/> when the master noticed (UTC).
    /// </summary>
    public sealed record Waiting(string What, string Reason, DateTime Since);

    /// <param name="WaitingFor">What the running job waits for; empty when nothing (and for every job that ended).</param>
    public sealed record JobSummary(
        string Id, string State, int MapsDone, int MapsTotal, int ReducesDone, int ReducesTotal,
        DateTime SubmittedAt, DateTime? FinishedAt, double DurationSeconds, string DatasetId, string CodeId, string? Error,
        Waiting[] WaitingFor);

    public sealed record JobDetail(
        JobSummary Job, string? ResultDatasetId, string[] Parts, IReadOnlyDictionary<string, long> Counters, long[] PartitionBytes);

    /// <param name="WaitingFor">What the running job waits for; empty when nothing.</param>
    public sealed record JobProgress(
        string Id, string State, int MapsDone, int MapsTotal, int ReducesDone, int ReducesTotal, string? Error, string[] Parts,
        Waiting[] WaitingFor)
    {
        public bool IsFinished => State != States.Running;
    }

    public sealed record Attempt(
        string Name, string Task, string Kind, string? Worker, string State, DateTime? StartedAt, DateTime? EndedAt, double? Seconds, string? Error);

    public sealed record AttemptLog(string Attempt, string Task, string? Worker, string State, string Log);

    /// <summary>How the API names job and attempt states.</summary>
    public static class States
    {
        public const string Running = "running";
        public const string Succeeded = "succeeded";
        public const string Failed = "failed";
        public const string Cancelled = "cancelled";

        public static string Of(JobStage stage) => stage switch
        {
            JobStage.Running => Running,
            JobStage.Succeeded => Succeeded,
            JobStage.Cancelled => Cancelled,
            _ => Failed,
        };

        /// <summary>A catalog status (jobs and attempts share its words) as the API says it.</summary>
        public static string OfCatalog(string status) => status switch
        {
            ExecutionStatus.Success => Succeeded,
            ExecutionStatus.Failure => Failed,
            ExecutionStatus.Cancelled => Cancelled,
            _ => Running,
        };
    }

    public static JobProgress ProgressOf(MasterProtocol.JobStatus s) => new(
        s.JobId.Value, States.Of(s.Stage), s.MapsDone, s.MapsTotal, s.ReducesDone, s.ReducesTotal, s.Error, s.ResultParts(),
        WaitingOf(s.WaitingFor));

    /// <summary>The master's waits as the API shows them (times said as UTC, so JSON carries the Z).</summary>
    public static Waiting[] WaitingOf(IEnumerable<MasterProtocol.Wait>? waits) =>
        waits?.Select(w => new Waiting(w.What, w.Reason, DateTime.SpecifyKind(w.Since, DateTimeKind.Utc))).ToArray() ?? [];
}
