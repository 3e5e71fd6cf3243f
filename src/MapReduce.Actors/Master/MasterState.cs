using System.Collections.Immutable;
using MapReduce.Storage.Catalog;

namespace MapReduce.Actors.Master;

public enum TaskKind { Map, Reduce }

/// <summary>One map or reduce task of a job, as the journal knows it.</summary>
public sealed record TaskState(
    string TaskId,
    TaskKind Kind,
    int Index,
    MapInput? Input,
    string Status,
    int Attempts,
    int CountedFailures,
    string? CurrentAttempt,
    string? AcceptedAttempt,
    string? Worker,
    string? LastError,
    ImmutableArray<int> NonEmptyPartitions,
    string? OutputKey)
{
    public bool IsDone => Status == ExecutionStatus.Success;

    public static TaskState NewMap(int index, MapInput input) =>
        new(input.TaskId, TaskKind.Map, index, input, ExecutionStatus.Pending, 0, 0, null, null, null, null, [], null);

    public static TaskState NewReduce(int partition) =>
        new(ReduceTaskId(partition), TaskKind.Reduce, partition, null, ExecutionStatus.Pending, 0, 0, null, null, null, null, [], null);

    public static string MapTaskId(int index) => $"m{index:D5}";
    public static string ReduceTaskId(int partition) => $"r{partition:D5}";

    /// <summary>Attempt ids are "{taskId}.{n}", n counting from 1; the journal remembers n across failovers.</summary>
    public string NextAttemptId => $"{TaskId}.{Attempts + 1}";
}

/// <summary>A job and all its tasks; pure: <see cref="Apply"/> returns a new state.</summary>
public sealed record JobState(
    string ExecId,
    string CodeId,
    string DirId,
    int Reducers,
    string Status,
    ImmutableArray<TaskState> Maps,
    ImmutableArray<TaskState> Reduces,
    string? Error,
    string? ResultDirId,
    ImmutableArray<string> ResultParts,
    DateTime SubmittedAt,
    DateTime? FinishedAt)
{
    public bool IsFinished => Status is ExecutionStatus.Success or ExecutionStatus.Failure;
    public bool MapsDone => Maps.All(t => t.IsDone);
    public bool ReducesDone => Reduces.All(t => t.IsDone);

    public TaskState Task(string taskId) =>
        (taskId.StartsWith('m') ? Maps : Reduces).First(t => t.TaskId == taskId);

    /// <summary>Tasks that may run now: maps until every map is done, then reduces.</summary>
    public IEnumerable<TaskState> Runnable =>
        IsFinished ? [] : MapsDone ? Reduces.Where(t => !t.IsDone) : Maps.Where(t => !t.IsDone);

    /// <summary>The sorted runs a reduce task of this partition merges: one per map that wrote into it.</summary>
    public string[] RunKeysFor(int partition) =>
        Maps.Where(m => m.NonEmptyPartitions.Contains(partition))
            .Select(m => BlobKeys.MapRun(ExecId, m.AcceptedAttempt!, partition))
            .ToArray();

    public static JobState From(JobSubmitted e) => new(
        e.ExecId, e.CodeId, e.DirId, e.Reducers, ExecutionStatus.Running,
        e.Maps.Select((m, i) => TaskState.NewMap(i, m)).ToImmutableArray(),
        Enumerable.Range(0, e.Reducers).Select(TaskState.NewReduce).ToImmutableArray(),
        null, null, [], e.At, null);

    public JobState Apply(IMasterEvent e) => e switch
    {
        TaskStarted s => WithTask(s.TaskId, t => t with
        {
            Status = ExecutionStatus.Running, Attempts = t.Attempts + 1, CurrentAttempt = s.AttemptId, Worker = s.Worker,
        }),
        MapSucceeded m => WithTask(m.TaskId, t => t.IsDone ? t : t with
        {
            Status = ExecutionStatus.Success, AcceptedAttempt = m.AttemptId, NonEmptyPartitions = [.. m.NonEmptyPartitions],
        }),
        ReduceSucceeded r => WithTask(r.TaskId, t => t.IsDone ? t : t with
        {
            Status = ExecutionStatus.Success, AcceptedAttempt = r.AttemptId, OutputKey = r.OutputKey,
        }),
        TaskFailed f => WithTask(f.TaskId, t => t.IsDone ? t : t with
        {
            Status = ExecutionStatus.Pending, CurrentAttempt = null, Worker = null, LastError = f.Error,
            CountedFailures = t.CountedFailures + (f.Counted ? 1 : 0),
        }),
        JobSucceeded s => this with
        {
            Status = ExecutionStatus.Success, ResultDirId = s.ResultDirId, ResultParts = [.. s.PartKeys], FinishedAt = s.At,
        },
        JobFailed f => this with { Status = ExecutionStatus.Failure, Error = f.Reason, FinishedAt = f.At },
        _ => this,
    };

    private JobState WithTask(string taskId, Func<TaskState, TaskState> change)
    {
        if (taskId.StartsWith('m'))
        {
            var i = Maps.IndexOf(Maps.First(t => t.TaskId == taskId));
            return this with { Maps = Maps.SetItem(i, change(Maps[i])) };
        }
        var j = Reduces.IndexOf(Reduces.First(t => t.TaskId == taskId));
        return this with { Reduces = Reduces.SetItem(j, change(Reduces[j])) };
    }
}

/// <summary>Everything the master knows: every job it was ever given, rebuilt from the journal.</summary>
public sealed record MasterState(ImmutableDictionary<string, JobState> Jobs)
{
    public static readonly MasterState Empty = new(ImmutableDictionary<string, JobState>.Empty);

    public MasterState Apply(IMasterEvent e) => e switch
    {
        JobSubmitted s => this with { Jobs = Jobs.SetItem(s.ExecId, JobState.From(s)) },
        _ when Jobs.TryGetValue(e.ExecId, out var job) => this with { Jobs = Jobs.SetItem(e.ExecId, job.Apply(e)) },
        _ => this,
    };
}
