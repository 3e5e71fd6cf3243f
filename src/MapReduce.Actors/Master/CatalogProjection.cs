using Akka.Actor;
using Akka.Event;
using MapReduce.Storage.Catalog;

namespace MapReduce.Actors.Master;

/// <summary>
/// Writes the master's journal events into the SQL catalog (jobs, executions, result datasets) for
/// status queries. Rows are buffered and written in one transaction every few hundred
/// milliseconds, so the master never waits for SQL; writes are upserts, so replaying is harmless.
/// </summary>
public sealed class CatalogProjection : ReceiveActor, IWithTimers
{
    /// <summary>Writes the job as <paramref name="Job"/> shows it; <paramref name="Event"/> (if any) says which execution row changed.</summary>
    public sealed record Project(IMasterEvent? Event, JobState Job);

    private sealed class Flush
    {
        public static readonly Flush Instance = new();
    }

    private readonly CatalogStore _catalog;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, JobRow> _jobs = new();
    private readonly Dictionary<(string, string), ExecutionRow> _executions = new();
    private readonly List<(DatasetRow, List<ChunkRow>)> _datasets = [];

    public ITimerScheduler Timers { get; set; } = null!;

    public CatalogProjection(CatalogStore catalog)
    {
        _catalog = catalog;
        Receive<Project>(p =>
        {
            Add(p.Event, p.Job);
            if (!Timers.IsTimerActive("flush")) Timers.StartSingleTimer("flush", Flush.Instance, TimeSpan.FromMilliseconds(200));
        });
        Receive<Flush>(_ => FlushNow());
    }

    public static Props Props(CatalogStore catalog) => Akka.Actor.Props.Create(() => new CatalogProjection(catalog));

    protected override void PostStop() => FlushNow();

    private void Add(IMasterEvent? e, JobState job)
    {
        var now = DateTime.UtcNow;
        _jobs[job.ExecId] = new JobRow
        {
            ExecId = job.ExecId, CodeId = job.CodeId, DirId = job.DirId, Status = job.Status, ResultDirId = job.ResultDirId,
            Reducers = job.Reducers, MapTasks = job.Maps.Length, Error = job.Error, SubmittedAt = job.SubmittedAt, FinishedAt = job.FinishedAt,
        };
        switch (e)
        {
            case TaskStarted s:
                Execution(job, s.TaskId, s.AttemptId, ExecutionStatus.Running, s.Worker, null, null, now);
                break;
            case MapSucceeded m:
                Execution(job, m.TaskId, m.AttemptId, ExecutionStatus.Success, null, $"jobs/{job.ExecId}/map/{m.AttemptId}", null, now);
                break;
            case ReduceSucceeded r:
                Execution(job, r.TaskId, r.AttemptId, ExecutionStatus.Success, null, r.OutputKey, null, now);
                break;
            case TaskFailed f:
                Execution(job, f.TaskId, f.AttemptId, ExecutionStatus.Failure, null, null, f.Error, now);
                break;
            case JobSucceeded s:
                var chunks = s.PartKeys.Select((key, i) => new ChunkRow { DirId = s.ResultDirId, DocId = BlobKeys.PartName(i), ChunkIndex = 0, ChunkId = key }).ToList();
                _datasets.Add((new DatasetRow
                {
                    DirId = s.ResultDirId, Kind = DatasetKind.Output, Source = $"job {job.ExecId}", Documents = chunks.Count, Chunks = chunks.Count, CreatedAt = s.At,
                }, chunks));
                break;
        }
    }

    private void Execution(JobState job, string taskId, string attemptId, string status, string? worker, string? result, string? error, DateTime now)
    {
        var task = job.Task(taskId);
        var key = (job.ExecId, attemptId);
        var row = _executions.TryGetValue(key, out var existing) ? existing : new ExecutionRow
        {
            ExecId = job.ExecId, AttemptId = attemptId, TaskId = taskId,
            ExecType = task.Kind == TaskKind.Map ? ExecutionType.Map : ExecutionType.Reduce,
            ChunkId = task.Input?.ChunkKey, Partition = task.Kind == TaskKind.Reduce ? task.Index : null,
            Worker = worker ?? task.Worker,
        };
        row.Status = status;
        row.ResultDocId = result ?? row.ResultDocId;
        row.Error = error;
        row.UpdatedAt = now;
        _executions[key] = row;
    }

    private void FlushNow()
    {
        if (_jobs.Count == 0 && _executions.Count == 0 && _datasets.Count == 0) return;
        try
        {
            foreach (var (dataset, chunks) in _datasets) _catalog.RegisterDataset(dataset, chunks);
            _catalog.UpsertExecutions(_executions.Values.ToList());
            foreach (var job in _jobs.Values) _catalog.UpsertJob(job);
            _datasets.Clear();
            _executions.Clear();
            _jobs.Clear();
        }
        catch (Exception e) when (e is LinqToDB.LinqToDBException or System.Data.Common.DbException or IOException or InvalidOperationException)
        {
            // Keep the rows and try again: the catalog is a projection, the journal stays the truth.
            _log.Warning("catalog write failed, retrying in 1 s: {0}", e.Message);
            Timers.StartSingleTimer("flush", Flush.Instance, TimeSpan.FromSeconds(1));
        }
    }
}
