using Akka.Actor;
using Akka.Event;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;

namespace MapReduce.Actors.Master;

/// <summary>
/// Writes the master's journal events into the SQL catalog (jobs, executions, result datasets) for
/// status queries. Rows are buffered and written in one transaction every few hundred
/// milliseconds, so the master never waits for SQL; writes are upserts, so replaying is harmless.
/// A finished job is answered with <see cref="JobProjected"/> once its final row is written: only
/// then may the master forget it.
/// </summary>
public sealed class CatalogProjection : ReceiveActor, IWithTimers
{
    /// <summary>
    /// Writes the job as <paramref name="Job"/> shows it; <paramref name="Event"/> (if any) says which
    /// execution row changed, <paramref name="WaitingFor"/> what the job waits for (kept only while it runs).
    /// </summary>
    public sealed record Project(IMasterEvent? Event, JobState Job, MasterProtocol.Wait[]? WaitingFor = null);

    /// <summary>The final state of a finished job is in the catalog.</summary>
    public sealed record JobProjected(JobId Job);

    private sealed class Flush
    {
        public static readonly Flush Instance = new();
    }

    /// <summary>How long rows are gathered before they are written in one transaction (not a setting: a batching window far under every wait on the catalog, e.g. mapreduce.client.final-record-wait).</summary>
    internal static readonly TimeSpan FlushEvery = TimeSpan.FromMilliseconds(100);
    /// <summary>A write the catalog refused is tried again this much later, until it succeeds: a retry pace, not a wait anyone sizes.</summary>
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    private readonly CatalogStore _catalog;
    /// <summary>Stamps the rows' times (updated_at): a fake clock in tests.</summary>
    private readonly TimeProvider _clock;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<JobId, JobRow> _jobs = new();
    private readonly Dictionary<(JobId, string), ExecutionRow> _executions = new();
    private readonly List<TaskCounterRow> _counters = [];
    private readonly Dictionary<JobId, (DatasetRow, List<ChunkRow>)> _datasets = new();
    private readonly List<(IActorRef ReplyTo, JobId Job)> _finished = [];
    private readonly List<KvStoreProtocol.KeepMapOutputs> _kept = [];

    public ITimerScheduler Timers { get; set; } = null!;

    public CatalogProjection(CatalogStore catalog, TimeProvider clock)
    {
        _catalog = catalog;
        _clock = clock;
        Receive<Project>(p =>
        {
            Add(p.Event, p.Job, p.WaitingFor);
            if (p.Job.IsFinished) _finished.Add((Sender, p.Job.Id));
            if (!Timers.IsTimerActive("flush")) Timers.StartSingleTimer("flush", Flush.Instance, FlushEvery);
        });
        Receive<Flush>(_ => FlushNow());
    }

    public static Props Props(CatalogStore catalog, TimeProvider clock) => Akka.Actor.Props.Create(() => new CatalogProjection(catalog, clock));

    protected override void PostStop() => FlushNow();

    private void Add(IMasterEvent? e, JobState job, MasterProtocol.Wait[]? waits)
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        _jobs[job.Id] = new JobRow
        {
            ExecId = job.Id.Value, CodeId = job.CodeId, DirId = job.DatasetId, Status = CatalogNames.Of(job.Stage),
            ResultDirId = job.Stage == JobStage.Succeeded ? job.ResultDatasetId : null,
            Reducers = job.Reducers, MapTasks = job.Maps.Count, Error = job.Error, SubmittedAt = job.SubmittedAt, FinishedAt = job.FinishedAt,
            WaitingFor = job.IsFinished ? null : CatalogNames.Of(waits),
        };
        if (job.Stage == JobStage.Succeeded) AddResultDataset(job);
        // With its end, what an incremental job keeps for re-runs: a re-run submitted once the job shows as ended finds it.
        if (e is JobSucceeded && StoreJanitor.Keep(job, []) is { } keep) _kept.Add(keep);
        switch (e)
        {
            case JobSubmitted s:
                // A map an incremental job reuses has no attempt: a counter says it was reused.
                for (var i = 0; i < s.Maps.Length; i++)
                    if (s.Maps[i].IsReused)
                        _counters.Add(new TaskCounterRow { ExecId = job.Id.Value, TaskId = s.Maps[i].TaskId, Name = UserCode.TaskCounterNames.MapReused, Value = 1 });
                break;
            case TaskStarted s:
                var started = Execution(job, s.TaskId, s.AttemptId, ExecutionStatus.Running, s.Worker, null, null, now);
                started.StartedAt = s.At;
                if (s.Backup) started.Backup = 1;
                break;
            case MapSucceeded m:
                Execution(job, m.TaskId, m.AttemptId, ExecutionStatus.Success, null, $"{BlobKeys.MapRunsFolder(job.Id)}/{m.AttemptId}", null, now)
                    .Outcome = ExecutionOutcome.Succeeded;
                AddCounters(job, m.TaskId, m.AttemptId, m.Counters);
                break;
            case ReduceSucceeded r:
                Execution(job, r.TaskId, r.AttemptId, ExecutionStatus.Success, null, r.OutputKey, null, now).Outcome = ExecutionOutcome.Succeeded;
                AddCounters(job, r.TaskId, r.AttemptId, r.Counters);
                break;
            case TaskFailed f:
                Execution(job, f.TaskId, f.AttemptId, ExecutionStatus.Failure, null, null, f.Error, now).Outcome =
                    f.Superseded ? ExecutionOutcome.Stopped : f.Lost ? ExecutionOutcome.Lost : ExecutionOutcome.Failed;
                if (f.LostMapAttempt is { } lost && TaskId.TryParse(lost[..lost.LastIndexOf('.')], out var map))
                    Execution(job, map.ToString(), lost, ExecutionStatus.Failure, null, null, $"its output was lost: {f.Error}", now).Outcome = ExecutionOutcome.Lost;
                break;
            case JobFailed or JobCancelled:
                // The master stops the attempts still running without journaling each: they end here.
                foreach (var task in job.Maps.Concat(job.Reduces).Where(t => t.Stage == TaskStage.Running && t.CurrentAttempt is not null))
                {
                    var why = e is JobCancelled ? "stopped: the job was cancelled" : "stopped: the job failed";
                    Execution(job, task.Id.ToString(), new AttemptId(job.Id, task.Id, task.CurrentAttempt!.Value).Name, ExecutionStatus.Failure, null, null, why, now)
                        .Outcome = ExecutionOutcome.Stopped;
                }
                break;
        }
    }

    /// <summary>A job's output is a dataset of its own (<c>result-JOB</c>), one chunk per part.</summary>
    private void AddResultDataset(JobState job)
    {
        var chunks = BlobKeys.ResultParts(job.Id, job.PartAttempts())
            .Select((key, i) => new ChunkRow { DirId = job.ResultDatasetId, DocId = BlobKeys.PartName(i), ChunkIndex = 0, ChunkId = key }).ToList();
        _datasets[job.Id] = (new DatasetRow
        {
            DirId = job.ResultDatasetId, Kind = DatasetKind.Output, Source = $"job {job.Id}", Documents = chunks.Count, Chunks = chunks.Count,
            CreatedAt = job.FinishedAt ?? _clock.GetUtcNow().UtcDateTime,
        }, chunks);
    }

    /// <summary>Only the task's accepted attempt counts (the first success wins, as in MasterState).</summary>
    private void AddCounters(JobState job, string taskText, string attemptName, IReadOnlyDictionary<string, long>? counters)
    {
        if (counters is null) return;
        var task = job.Task(TaskId.Parse(taskText));
        if (task.AcceptedAttempt is not { } accepted || new AttemptId(job.Id, task.Id, accepted).Name != attemptName) return;
        foreach (var (name, value) in counters)
            _counters.Add(new TaskCounterRow { ExecId = job.Id.Value, TaskId = taskText, Name = name, Value = value });
    }

    private ExecutionRow Execution(JobState job, string taskText, string attemptName, string status, string? worker, string? result, string? error, DateTime now)
    {
        var task = job.Task(TaskId.Parse(taskText));
        var key = (job.Id, attemptName);
        var row = _executions.TryGetValue(key, out var existing) ? existing : new ExecutionRow
        {
            ExecId = job.Id.Value, AttemptId = attemptName, TaskId = taskText,
            ExecType = task.Id.Kind == TaskKind.Map ? ExecutionType.Map : ExecutionType.Reduce,
            ChunkId = task.Input?.ChunkKey, Partition = task.Id.Kind == TaskKind.Reduce ? task.Id.Index : null,
            // The task's worker is its current attempt's: another attempt's row keeps the worker already stored.
            Worker = worker ?? (task.CurrentAttempt is { } current && new AttemptId(job.Id, task.Id, current).Name == attemptName ? task.Worker : null),
        };
        row.Status = status;
        row.ResultDocId = result ?? row.ResultDocId;
        row.Error = error;
        row.UpdatedAt = now;
        _executions[key] = row;
        return row;
    }

    private void FlushNow()
    {
        if (_jobs.Count == 0 && _executions.Count == 0 && _datasets.Count == 0 && _counters.Count == 0 && _kept.Count == 0) return;
        try
        {
            foreach (var (dataset, chunks) in _datasets.Values) _catalog.RegisterDataset(dataset, chunks);
            _catalog.UpsertExecutions(_executions.Values.ToList());
            _catalog.UpsertCounters(_counters);
            foreach (var keep in _kept)
            {
                var (run, outputs) = keep.Rows();
                _catalog.RecordIncremental(run, outputs);
            }
            foreach (var job in _jobs.Values) _catalog.UpsertJob(job);
            _kept.Clear();
            _datasets.Clear();
            _executions.Clear();
            _counters.Clear();
            _jobs.Clear();
            foreach (var (replyTo, job) in _finished) replyTo.Tell(new JobProjected(job));
            _finished.Clear();
        }
        catch (Exception e) when (e is LinqToDB.LinqToDBException or System.Data.Common.DbException or IOException or InvalidOperationException)
        {
            // Keep the rows and try again: the catalog is a projection, the journal stays the truth.
            _log.Warning("catalog write failed, retrying in {0} s: {1}", RetryAfter.TotalSeconds, e.Message);
            Timers.StartSingleTimer("flush", Flush.Instance, RetryAfter);
        }
    }
}
