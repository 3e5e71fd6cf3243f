using System.Text.Json.Serialization;
using MapReduce.Actors.Protocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// What the master journals. Each event is a fact about one job; replaying them in order through
/// <see cref="MasterState.Apply"/> rebuilds every job after a restart or failover. Serialized as
/// JSON under the type's name (see JournalEventSerializer), with ids as text: rename a type or a
/// JSON name only with a reader for the old one (the journal of 2026-11-30 is a test fixture).
/// </summary>
public interface IMasterEvent
{
    string JobId { get; }
}

/// <summary>
/// A job was admitted. <see cref="SkipBadRecords"/>: lines on which Map fails every time are skipped
/// (<see cref="BadRecords"/>); older events have it false. <see cref="Lineage"/>: set for an
/// incremental job (<c>--incremental</c>), whose map outputs are kept for the next re-run of its
/// lineage (Storage.Incremental.ContentIds.Lineage); older events have none.
/// </summary>
public sealed record JobSubmitted(
    [property: JsonPropertyName("ExecId")] string JobId,
    string CodeId,
    [property: JsonPropertyName("DirId")] string DatasetId,
    int Reducers,
    MapInput[] Maps,
    DateTime At,
    bool SkipBadRecords = false,
    string? Lineage = null) : IMasterEvent;

/// <summary>
/// An attempt was handed to a worker; <see cref="AttemptId"/> is the attempt's name within the job
/// (<c>m00002.1</c>). <see cref="Backup"/>: a second attempt of a straggling task, started while
/// the first still runs (<see cref="Speculation"/>); older events have it false.
/// </summary>
public sealed record TaskStarted([property: JsonPropertyName("ExecId")] string JobId, string TaskId, string AttemptId, string Worker, DateTime At,
    bool Backup = false) : IMasterEvent;

/// <summary>The accepted attempt of a map task. <see cref="Counters"/>: its counters (events journaled before counters have none).</summary>
public sealed record MapSucceeded(
    [property: JsonPropertyName("ExecId")] string JobId, string TaskId, string AttemptId, int[] NonEmptyPartitions, DateTime At,
    IReadOnlyDictionary<string, long>? Counters = null) : IMasterEvent;

public sealed record ReduceSucceeded(
    [property: JsonPropertyName("ExecId")] string JobId, string TaskId, string AttemptId, string OutputKey, DateTime At,
    IReadOnlyDictionary<string, long>? Counters = null) : IMasterEvent;

/// <summary>
/// An attempt failed. <see cref="Counted"/> attempts count against the retry limit. <see cref="Lost"/>:
/// the attempt did not end by its own code (its worker left or vanished, it timed out, it never
/// arrived), as opposed to user code or storage failing it; older events have it false.
/// <see cref="Superseded"/>: not a failure: another attempt of its task finished first and this one
/// was stopped (it comes after that success, so it changes nothing but the attempt's record).
/// <see cref="Line"/>: the line a map attempt mapping line by line (a job that skips bad records)
/// failed on; the task's suspect until another attempt fails on it too (<see cref="BadRecords"/>).
/// <see cref="LostMapAttempt"/>: a reduce attempt found a run of this accepted map attempt corrupt;
/// the map task is pending again (its output is lost) and runs again; older events have none.
/// </summary>
public sealed record TaskFailed(
    [property: JsonPropertyName("ExecId")] string JobId, string TaskId, string AttemptId, string Error, bool Counted, DateTime At,
    bool Lost = false, bool Superseded = false, InputLine? Line = null, string? LostMapAttempt = null) : IMasterEvent;

/// <summary>
/// A line on which Map failed in two attempts of its task (<see cref="AttemptId"/> the second) is
/// skipped from now on: the task's later attempts do not map it, and its count of failures starts
/// over. <see cref="Error"/>: the failure. A job that skips bad records only.
/// </summary>
public sealed record RecordSkipped(
    [property: JsonPropertyName("ExecId")] string JobId, string TaskId, string AttemptId, InputLine Line, string Error, DateTime At) : IMasterEvent;

public sealed record JobSucceeded([property: JsonPropertyName("ExecId")] string JobId, [property: JsonPropertyName("ResultDirId")] string ResultDatasetId, string[] PartKeys, DateTime At) : IMasterEvent;

public sealed record JobFailed([property: JsonPropertyName("ExecId")] string JobId, string Reason, DateTime At) : IMasterEvent;

/// <summary>
/// The job's final state is in the catalog and its intermediate data was asked to go: the master
/// forgets it (the catalog is the record of finished jobs), so its memory and recovery do not grow
/// with the jobs it has run.
/// </summary>
/// <summary>A user cancelled the job: its attempts are stopped and its intermediate data deleted, as for a failed job.</summary>
public sealed record JobCancelled([property: JsonPropertyName("ExecId")] string JobId, DateTime At) : IMasterEvent
{
    public const string Reason = "cancelled by a user";
}

public sealed record JobArchived([property: JsonPropertyName("ExecId")] string JobId, DateTime At) : IMasterEvent;
