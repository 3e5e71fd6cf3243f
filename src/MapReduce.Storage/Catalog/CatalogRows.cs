using LinqToDB.Mapping;

namespace MapReduce.Storage.Catalog;

/// <summary>A stored set of documents: an uploaded input folder, or the output of a job.</summary>
[Table("datasets")]
public sealed class DatasetRow
{
    [Column("dir_id"), PrimaryKey] public string DirId { get; set; } = "";
    [Column("kind"), NotNull] public string Kind { get; set; } = DatasetKind.Input;
    [Column("source"), Nullable] public string? Source { get; set; }
    [Column("documents")] public int Documents { get; set; }
    [Column("chunks")] public int Chunks { get; set; }
    [Column("bytes")] public long Bytes { get; set; }
    [Column("created_at")] public DateTime CreatedAt { get; set; }
}

public static class DatasetKind
{
    public const string Input = "input";
    public const string Output = "output";
}

/// <summary>One chunk of one document of a dataset; <see cref="ChunkId"/> is its blob key in the kvstore.</summary>
[Table("chunks")]
public sealed class ChunkRow
{
    [Column("dir_id"), PrimaryKey(0)] public string DirId { get; set; } = "";
    [Column("doc_id"), PrimaryKey(1)] public string DocId { get; set; } = "";
    [Column("chunk_index"), PrimaryKey(2)] public int ChunkIndex { get; set; }
    [Column("chunk_id"), NotNull] public string ChunkId { get; set; } = "";
    [Column("bytes")] public long Bytes { get; set; }
    /// <summary>The content id of the chunk's bytes (MapReduce.Storage.Incremental.ContentIds), for incremental re-runs; null when uploaded without <c>--incremental</c>, or before this column existed.</summary>
    [Column("content_id"), Nullable] public string? ContentId { get; set; }
}

/// <summary>
/// A map output kept for incremental re-runs: the runs of one accepted map attempt (<see cref="RunsFolder"/>,
/// one blob per non-empty partition), found by its content id. Kept while it belongs to the latest
/// incremental job of its lineage (<see cref="IncrementalRunRow"/>); deleted with that job's input dataset.
/// </summary>
[Table("map_outputs")]
public sealed class MapOutputRow
{
    [Column("output_id"), PrimaryKey] public string OutputId { get; set; } = "";
    [Column("lineage"), NotNull] public string Lineage { get; set; } = "";
    [Column("runs_folder"), NotNull] public string RunsFolder { get; set; } = "";
    /// <summary>The partitions it wrote a run for, comma-separated.</summary>
    [Column("partitions"), NotNull] public string Partitions { get; set; } = "";
    [Column("job_id"), NotNull] public string JobId { get; set; } = "";
}

/// <summary>The latest incremental job that succeeded in a lineage (same input source, code and reducers): whose map outputs are kept, and whose result a re-run with nothing changed returns.</summary>
[Table("incremental_runs")]
public sealed class IncrementalRunRow
{
    [Column("lineage"), PrimaryKey] public string Lineage { get; set; } = "";
    [Column("job_id"), NotNull] public string JobId { get; set; } = "";
    /// <summary>The id of the job's result as a function of its code, reducers and map output ids (ContentIds.JobResult).</summary>
    [Column("result_id"), NotNull] public string ResultId { get; set; } = "";
    [Column("dir_id"), NotNull] public string DirId { get; set; } = "";
    [Column("result_dir_id"), NotNull] public string ResultDirId { get; set; } = "";
    /// <summary>When the job was submitted: a job's record never replaces that of a job submitted after it.</summary>
    [Column("submitted_at")] public DateTime SubmittedAt { get; set; }
}

/// <summary>Uploaded user code (task.csx); the id is a hash of the script.</summary>
[Table("codes")]
public sealed class CodeRow
{
    [Column("code_id"), PrimaryKey] public string CodeId { get; set; } = "";
    [Column("blob_key"), NotNull] public string BlobKey { get; set; } = "";
    [Column("source"), Nullable] public string? Source { get; set; }
    [Column("created_at")] public DateTime CreatedAt { get; set; }
}

[Table("jobs")]
public sealed class JobRow
{
    [Column("exec_id"), PrimaryKey] public string ExecId { get; set; } = "";
    [Column("code_id"), NotNull] public string CodeId { get; set; } = "";
    [Column("dir_id"), NotNull] public string DirId { get; set; } = "";
    [Column("status"), NotNull] public string Status { get; set; } = ExecutionStatus.Pending;
    [Column("result_dir_id"), Nullable] public string? ResultDirId { get; set; }
    [Column("reducers")] public int Reducers { get; set; }
    [Column("map_tasks")] public int MapTasks { get; set; }
    [Column("error"), Nullable] public string? Error { get; set; }
    [Column("submitted_at")] public DateTime SubmittedAt { get; set; }
    [Column("finished_at"), Nullable] public DateTime? FinishedAt { get; set; }
    /// <summary>What a running job waits for (JSON written by the master: the kvstore, since when); null when nothing, or in rows written before this column existed.</summary>
    [Column("waiting_for"), Nullable] public string? WaitingFor { get; set; }
}

/// <summary>One attempt of one task of a job: map tasks name their chunk, reduce tasks their partition.</summary>
[Table("executions")]
public sealed class ExecutionRow
{
    [Column("exec_id"), PrimaryKey(0)] public string ExecId { get; set; } = "";
    [Column("attempt_id"), PrimaryKey(1)] public string AttemptId { get; set; } = "";
    [Column("task_id"), NotNull] public string TaskId { get; set; } = "";
    [Column("exec_type"), NotNull] public string ExecType { get; set; } = ExecutionType.Map;
    [Column("chunk_id"), Nullable] public string? ChunkId { get; set; }
    [Column("partition"), Nullable] public int? Partition { get; set; }
    [Column("status"), NotNull] public string Status { get; set; } = ExecutionStatus.Pending;
    [Column("result_doc_id"), Nullable] public string? ResultDocId { get; set; }
    [Column("worker"), Nullable] public string? Worker { get; set; }
    [Column("error"), Nullable] public string? Error { get; set; }
    /// <summary>When the attempt last changed: its end, once it has finished.</summary>
    [Column("updated_at")] public DateTime UpdatedAt { get; set; }
    /// <summary>When the attempt was handed to its worker (null in rows written before this column existed).</summary>
    [Column("started_at"), Nullable] public DateTime? StartedAt { get; set; }
    /// <summary>How a finished attempt ended (<see cref="ExecutionOutcome"/>); null while it runs.</summary>
    [Column("outcome"), Nullable] public string? Outcome { get; set; }
    /// <summary>1 when the attempt was a backup of a straggling attempt of its task (backup tasks); null otherwise.</summary>
    [Column("backup"), Nullable] public int? Backup { get; set; }
}

/// <summary>How an attempt ended: a failure of its own, or lost (its worker left or vanished, it timed out, it never arrived).</summary>
public static class ExecutionOutcome
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Lost = "lost";
    /// <summary>Stopped by the master: still running when its job failed or was cancelled, or another attempt of its task (a backup) finished first. Neither its own failure nor a loss.</summary>
    public const string Stopped = "stopped";
}

/// <summary>One counter of the accepted attempt of one task (see TaskCounterNames in MapReduce.Actors).</summary>
[Table("task_counters")]
public sealed class TaskCounterRow
{
    [Column("exec_id"), PrimaryKey(0)] public string ExecId { get; set; } = "";
    [Column("task_id"), PrimaryKey(1)] public string TaskId { get; set; } = "";
    [Column("name"), PrimaryKey(2)] public string Name { get; set; } = "";
    [Column("value")] public long Value { get; set; }
}

/// <summary>
/// A job's counters: <see cref="Totals"/> sums each name over its tasks; <see cref="PerTask"/> by
/// task id. Both hold the attempt accounting too: <c>attempts</c>, <c>attempts.failed</c>, <c>attempts.lost</c>.
/// </summary>
public sealed record JobCounters(
    IReadOnlyDictionary<string, long> Totals,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> PerTask);

public static class ExecutionStatus
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Success = "success";
    public const string Failure = "failure";
    /// <summary>Jobs only: a user cancelled it.</summary>
    public const string Cancelled = "cancelled";
}

public static class ExecutionType
{
    public const string Map = "map";
    public const string Reduce = "reduce";
}
