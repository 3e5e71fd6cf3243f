using System.Collections.Immutable;
using MapReduce.Actors.Protocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// The master's state as the snapshot store keeps it: JSON under a stable manifest (the type's name),
/// as events are. The shape and names are those of the snapshots the build of 2026-12-07 wrote (which
/// serialized <see cref="JobState"/> itself, with its computed properties too: they are ignored when
/// read), so those snapshots are still read (<c>tests/MapReduce.Tests/Master/Fixtures/snapshot-2026-12-07.db</c>).
/// </summary>
public sealed record MasterSnapshot(MasterSnapshot.JobEntry[] Jobs)
{
    public sealed record JobEntry(
        JobId Id, string CodeId, string DatasetId, int Reducers, JobStage Stage, TaskEntry[] Maps, TaskEntry[] Reduces,
        int MapsDone, int ReducesDone, string? Error, DateTime SubmittedAt, DateTime? FinishedAt,
        bool SkipBadRecords = false, RecordSkipped[]? Skipped = null, string? Lineage = null);

    public sealed record TaskEntry(
        TaskId Id, MapInput? Input, TaskStage Stage, int Attempts, int CountedFailures, int? CurrentAttempt, int? AcceptedAttempt,
        string? Worker, string? LastError, int[]? NonEmptyPartitions, InputLine? Suspect = null);

    public static MasterSnapshot Of(MasterState state) => new([.. state.Jobs.Values.OrderBy(j => j.SubmittedAt).Select(Entry)]);

    public MasterState ToState() => new(Jobs.Select(Job).ToImmutableDictionary(j => j.Id));

    private static JobEntry Entry(JobState j) => new(j.Id, j.CodeId, j.DatasetId, j.Reducers, j.Stage, [.. j.Maps.Select(Entry)], [.. j.Reduces.Select(Entry)],
        j.MapsDone, j.ReducesDone, j.Error, j.SubmittedAt, j.FinishedAt, j.SkipBadRecords, j.Skipped is null ? null : [.. j.Skipped], j.Lineage);

    private static TaskEntry Entry(TaskState t) => new(t.Id, t.Input, t.Stage, t.Attempts, t.CountedFailures, t.CurrentAttempt, t.AcceptedAttempt,
        t.Worker, t.LastError, t.NonEmptyPartitions.ToArray(), t.Suspect);

    private static JobState Job(JobEntry j) => new(j.Id, j.CodeId, j.DatasetId, j.Reducers, j.Stage,
        ImmutableList.CreateRange(j.Maps.Select(Task)), ImmutableList.CreateRange(j.Reduces.Select(Task)), j.MapsDone, j.ReducesDone, j.Error, j.SubmittedAt, j.FinishedAt,
        j.SkipBadRecords, j.Skipped is null ? null : ImmutableList.CreateRange(j.Skipped))
    {
        Lineage = j.Lineage,
    };

    private static TaskState Task(TaskEntry t) => new(t.Id, t.Input, t.Stage, t.Attempts, t.CountedFailures, t.CurrentAttempt, t.AcceptedAttempt,
        t.Worker, t.LastError, PartitionSet.Of(t.NonEmptyPartitions), t.Suspect);
}
