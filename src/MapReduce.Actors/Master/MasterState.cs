using System.Collections.Immutable;
using MapReduce.Actors.Protocol;

namespace MapReduce.Actors.Master;

public enum TaskStage { Pending, Running, Done }

/// <summary>
/// One map or reduce task of a job, as the journal knows it. Attempts are numbered from 1.
/// <see cref="Suspect"/>: the line its last attempt that named one failed on (a job that skips bad records).
/// </summary>
public sealed record TaskState(
    TaskId Id,
    MapInput? Input,
    TaskStage Stage,
    int Attempts,
    int CountedFailures,
    int? CurrentAttempt,
    int? AcceptedAttempt,
    string? Worker,
    string? LastError,
    PartitionSet NonEmptyPartitions,
    InputLine? Suspect = null)
{
    public bool IsDone => Stage == TaskStage.Done;

    public static TaskState New(TaskId id, MapInput? input) => new(id, input, TaskStage.Pending, 0, 0, null, null, null, null, PartitionSet.Empty);

    /// <summary>How errors name the task: "map task m00002 (document 'a.txt', chunk 0)".</summary>
    public string Describe() =>
        Input is null
            ? $"reduce task {Id} (partition {Id.Index})"
            : $"map task {Id} ({Input.Chunks()[0].Describe()}{(Input.More is { Length: > 0 } more ? $", and {more.Length} more chunks" : "")})";
}

/// <summary>
/// A job and all its tasks; pure: <see cref="Apply"/> returns a new state. Tasks sit in immutable
/// lists (balanced trees), so changing one task costs O(log n), not a copy of the job's tasks.
/// </summary>
public sealed record JobState(
    JobId Id,
    string CodeId,
    string DatasetId,
    int Reducers,
    JobStage Stage,
    ImmutableList<TaskState> Maps,
    ImmutableList<TaskState> Reduces,
    int MapsDone,
    int ReducesDone,
    string? Error,
    DateTime SubmittedAt,
    DateTime? FinishedAt,
    bool SkipBadRecords = false,
    ImmutableList<RecordSkipped>? Skipped = null)
{
    public bool IsFinished => Stage != JobStage.Running;

    /// <summary>The lines skipped so far, in the order they were (<see cref="BadRecords"/>).</summary>
    public ImmutableList<RecordSkipped> SkippedRecords => Skipped ?? [];

    /// <summary>Set for an incremental job: the lineage its map outputs are kept for (see <see cref="JobSubmitted.Lineage"/>).</summary>
    public string? Lineage { get; init; }

    public bool AllMapsDone => MapsDone == Maps.Count;
    public bool AllReducesDone => ReducesDone == Reduces.Count;

    public string ResultDatasetId => BlobKeys.ResultDatasetId(Id);

    public TaskState Task(TaskId id) => (id.Kind == TaskKind.Map ? Maps : Reduces)[id.Index];

    public bool HasTask(TaskId id) => id.Index >= 0 && id.Index < (id.Kind == TaskKind.Map ? Maps : Reduces).Count;

    /// <summary>The tasks that run now: maps until every map is done, then reduces.</summary>
    public TaskKind Phase => AllMapsDone ? TaskKind.Reduce : TaskKind.Map;

    /// <summary>For a reduce of this partition, each map's accepted attempt number, or 0 where the map wrote nothing into it: one bit tested per map.</summary>
    public int[] MapAttemptsFor(int partition)
    {
        var attempts = new int[Maps.Count];
        var i = 0;
        foreach (var map in Maps)
        {
            if (map.AcceptedAttempt is { } n && map.NonEmptyPartitions.Contains(partition)) attempts[i] = n;
            i++;
        }
        return attempts;
    }

    /// <summary>For a reduce of this partition, the maps reused from an earlier job that have a run in it, in map order.</summary>
    public ReusedRun[] ReusedRunsFor(int partition)
    {
        var reused = new List<ReusedRun>();
        var i = 0;
        foreach (var map in Maps)
        {
            if (map.Input is { ReusedRuns: { } runs } && map.NonEmptyPartitions.Contains(partition)) reused.Add(new ReusedRun(i, runs));
            i++;
        }
        return [.. reused];
    }

    /// <summary>The folders of the earlier jobs' runs this job reads (an incremental job's reused map outputs).</summary>
    public IEnumerable<string> ReusedFolders() => Maps.Where(m => m.Input?.ReusedRuns is not null).Select(m => m.Input!.ReusedRuns!);

    /// <summary>Each partition's accepted reduce attempt number (0 until it succeeded).</summary>
    public int[] PartAttempts() => Reduces.Select(r => r.AcceptedAttempt ?? 0).ToArray();

    /// <summary>A new job; the maps an incremental job reuses are done from the start.</summary>
    public static JobState From(JobSubmitted e) => new(
        new JobId(e.JobId), e.CodeId, e.DatasetId, e.Reducers, JobStage.Running,
        ImmutableList.CreateRange(e.Maps.Select((m, i) => m.IsReused
            ? TaskState.New(TaskId.Map(i), m) with { Stage = TaskStage.Done, NonEmptyPartitions = PartitionSet.Of(m.ReusedPartitions ?? []) }
            : TaskState.New(TaskId.Map(i), m))),
        ImmutableList.CreateRange(Enumerable.Range(0, e.Reducers).Select(p => TaskState.New(TaskId.Reduce(p), null))),
        e.Maps.Count(m => m.IsReused), 0, null, e.At, null, e.SkipBadRecords) { Lineage = e.Lineage };

    public JobState Apply(IMasterEvent e) => e switch
    {
        TaskStarted s => WithTask(s.TaskId, t => t with
        {
            Stage = TaskStage.Running, Attempts = t.Attempts + 1, CurrentAttempt = Number(s.AttemptId), Worker = s.Worker,
        }),
        MapSucceeded m => WithTask(m.TaskId, t => t with
        {
            Stage = TaskStage.Done, AcceptedAttempt = Number(m.AttemptId), NonEmptyPartitions = PartitionSet.Of(m.NonEmptyPartitions),
        }),
        ReduceSucceeded r => WithTask(r.TaskId, t => t with { Stage = TaskStage.Done, AcceptedAttempt = Number(r.AttemptId) }),
        // A reduce attempt found a run of an accepted map attempt corrupt: the reduce fails as any attempt, and the map runs again.
        TaskFailed { LostMapAttempt: { } lost } f => Apply(f with { LostMapAttempt = null }).MapOutputLost(lost),
        // An attempt that is not the task's current one failed while a later one (its backup) runs: the task runs on.
        TaskFailed f => WithTask(f.TaskId, t => t.Stage == TaskStage.Running && t.CurrentAttempt is { } current && current != Number(f.AttemptId)
            ? t with { LastError = f.Error, CountedFailures = t.CountedFailures + (f.Counted ? 1 : 0), Suspect = f.Line ?? t.Suspect }
            : t with
            {
                Stage = TaskStage.Pending, CurrentAttempt = null, Worker = null, LastError = f.Error,
                CountedFailures = t.CountedFailures + (f.Counted ? 1 : 0), Suspect = f.Line ?? t.Suspect,
            }),
        // The task starts over without the line: its failures so far were the line's.
        RecordSkipped r => WithTask(r.TaskId, t => t with { CountedFailures = 0, Suspect = null }) with { Skipped = SkippedRecords.Add(r) },
        JobSucceeded s => this with { Stage = JobStage.Succeeded, FinishedAt = s.At },
        JobFailed f => this with { Stage = JobStage.Failed, Error = f.Reason, FinishedAt = f.At },
        JobCancelled c => this with { Stage = JobStage.Cancelled, Error = JobCancelled.Reason, FinishedAt = c.At },
        _ => this,
    };

    /// <summary>
    /// The accepted map attempt's output is lost (a run of it was found corrupt): its task is pending
    /// again, and the job is back in its map phase until it is done again. Only that attempt: once
    /// another was accepted, an old report changes nothing.
    /// </summary>
    private JobState MapOutputLost(string attemptName)
    {
        var id = TaskId.Parse(attemptName[..attemptName.LastIndexOf('.')]);
        var map = Maps[id.Index];
        if (!map.IsDone || map.AcceptedAttempt != Number(attemptName)) return this;
        var pending = map with
        {
            Stage = TaskStage.Pending, AcceptedAttempt = null, CurrentAttempt = null, Worker = null,
            NonEmptyPartitions = PartitionSet.Empty, LastError = $"the output of {attemptName} was lost",
        };
        return this with { Maps = Maps.SetItem(id.Index, pending), MapsDone = MapsDone - 1 };
    }

    private static int Number(string attemptName) => int.Parse(attemptName.AsSpan(attemptName.LastIndexOf('.') + 1));

    /// <summary>Changes one task; a task already done stays as it is (the first success wins), and the done counts follow.</summary>
    private JobState WithTask(string taskText, Func<TaskState, TaskState> change)
    {
        var id = TaskId.Parse(taskText);
        var tasks = id.Kind == TaskKind.Map ? Maps : Reduces;
        var before = tasks[id.Index];
        if (before.IsDone) return this;
        var after = change(before);
        var done = after.IsDone ? 1 : 0;
        return id.Kind == TaskKind.Map
            ? this with { Maps = tasks.SetItem(id.Index, after), MapsDone = MapsDone + done }
            : this with { Reduces = tasks.SetItem(id.Index, after), ReducesDone = ReducesDone + done };
    }
}

/// <summary>
/// What the master holds: the jobs that have not finished, and finished ones until they are
/// archived (<see cref="JobArchived"/>), rebuilt from the latest snapshot and the events after it.
/// </summary>
public sealed record MasterState(ImmutableDictionary<JobId, JobState> Jobs)
{
    public static readonly MasterState Empty = new(ImmutableDictionary<JobId, JobState>.Empty);

    public MasterState Apply(IMasterEvent e) => e switch
    {
        JobSubmitted s => this with { Jobs = Jobs.SetItem(new JobId(s.JobId), JobState.From(s)) },
        JobArchived a => this with { Jobs = Jobs.Remove(new JobId(a.JobId)) },
        _ when Jobs.TryGetValue(new JobId(e.JobId), out var job) => this with { Jobs = Jobs.SetItem(job.Id, job.Apply(e)) },
        _ => this,
    };

    /// <summary>
    /// Why <paramref name="e"/> cannot be applied to this state (a task or attempt it names does not
    /// exist or is malformed), or null when it can. The master persists no such event, and skips
    /// one it finds in the journal (written by a forged message before this check, or by hand):
    /// one bad event must not stop every later take-over from recovering.
    /// </summary>
    public string? Problem(IMasterEvent e)
    {
        if (string.IsNullOrEmpty(e.JobId)) return "it names no job";
        switch (e)
        {
            case JobSubmitted s:
                if (s.Maps is null || s.Reducers < 1) return "it has no map tasks or no reducers";
                for (var i = 0; i < s.Maps.Length; i++)
                {
                    if (s.Maps[i] is null || !TaskId.TryParse(s.Maps[i].TaskId, out var map) || map != TaskId.Map(i)) return $"its map task {i} is not m{i:D5}";
                    if (s.Maps[i].ReusedRuns is not null && (s.Maps[i].ReusedPartitions is not { } reused || reused.Any(p => p < 0 || p >= s.Reducers)))
                        return $"the partitions its map task {i} reuses are not within the job's {s.Reducers}";
                }
                return null;
            case TaskStarted or MapSucceeded or ReduceSucceeded or TaskFailed or RecordSkipped when Jobs.TryGetValue(new JobId(e.JobId), out var job):
                var (taskText, attemptName) = e switch
                {
                    TaskStarted t => (t.TaskId, t.AttemptId),
                    MapSucceeded m => (m.TaskId, m.AttemptId),
                    ReduceSucceeded r => (r.TaskId, r.AttemptId),
                    TaskFailed f => (f.TaskId, f.AttemptId),
                    RecordSkipped r => (r.TaskId, r.AttemptId),
                    _ => throw new InvalidOperationException(),
                };
                if (!TaskId.TryParse(taskText, out var task) || !job.HasTask(task)) return $"job {job.Id} has no task '{taskText}'";
                if (!AttemptId.TryParse(job.Id, attemptName, out var attempt) || attempt.Task != task || attempt.Number < 1)
                    return $"'{attemptName}' is not an attempt of task {task}";
                if (e is MapSucceeded { NonEmptyPartitions: var partitions } && (partitions is null || partitions.Any(p => p < 0 || p >= job.Reducers)))
                    return $"its partitions are not within the job's {job.Reducers}";
                if (e is TaskFailed { LostMapAttempt: { } lost }
                    && (!AttemptId.TryParse(job.Id, lost, out var lostMap) || lostMap.Task.Kind != TaskKind.Map || !job.HasTask(lostMap.Task) || lostMap.Number < 1))
                    return $"'{lost}' is not an attempt of a map task of job {job.Id}";
                if (e is RecordSkipped { Line: var line } && (line is null || task.Kind != TaskKind.Map)) return "it names no line of a map task";
                return null;
            default:
                return null;
        }
    }

    public MasterSnapshot ToSnapshot() => MasterSnapshot.Of(this);

    public static MasterState From(MasterSnapshot snapshot) => snapshot.ToState();
}
