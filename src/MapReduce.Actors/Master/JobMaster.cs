using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.KvStore;
using MapReduce.Actors.Worker;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Master.MasterProtocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// The job master: a cluster singleton that journals every job and task transition. It cuts a job
/// into one map task per chunk and R reduce tasks, and hands tasks to workers that have a free
/// slot, never more than the slots a worker announced. State lives in <see cref="MasterState"/>;
/// this actor only validates commands, persists events and reacts to them.
/// </summary>
public sealed class JobMaster : ReceivePersistentActor, IWithTimers
{
    public const string PersistenceIdValue = "job-master";

    /// <summary>What the master knows of one worker. <see cref="Foreign"/> counts attempts the worker runs that this master did not hand it (from before a failover, or timed out here): they hold slots too.</summary>
    private sealed class WorkerSlots(int slots)
    {
        public int Slots { get; set; } = slots;
        public HashSet<string> Running { get; } = [];
        public int Foreign { get; set; }
        public DateTime LastSeen { get; set; } = DateTime.UtcNow;
        public int Free => Slots - Running.Count - Foreign;
    }

    private sealed record Assignment(IActorRef Worker, string ExecId, string TaskId, DateTime Since);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    /// <summary>
    /// After a restart, tasks the journal shows running are given this long to be claimed by the
    /// workers still running them (they announce every 2 s) before they are started again.
    /// </summary>
    private static readonly TimeSpan RecoveryGrace = TimeSpan.FromSeconds(3);

    /// <summary>A held status question is answered after this long even if nothing changed (the asker's timeout is longer).</summary>
    private static readonly TimeSpan WatchFor = TimeSpan.FromSeconds(1);

    /// <summary>An assignment the worker does not list this long after it was sent was lost on the way.</summary>
    private static readonly TimeSpan LostAfter = TimeSpan.FromSeconds(5);

    /// <summary>How long the master waits to find the kvstore, and then for it to delete what it was asked to.</summary>
    private static readonly TimeSpan KvStoreTimeout = TimeSpan.FromSeconds(30);

    /// <summary>After a restart, jobs that ended this recently have their intermediate data deleted again, in case the request was lost.</summary>
    private static readonly TimeSpan CleanupAgainWithin = TimeSpan.FromMinutes(10);

    /// <summary>A deletion the kvstore finished (or failed): its answer goes to whoever asked.</summary>
    private sealed record DeletionFinished(string DirId, IActorRef Requester, object Reply);

    private readonly CatalogStore _catalog;
    private readonly MapReduceSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _projection;
    private readonly Func<TimeSpan, Task<IActorRef>> _findKvStore;
    /// <summary>Datasets the kvstore is deleting: no job may start on them meanwhile.</summary>
    private readonly HashSet<string> _deleting = [];
    private readonly Dictionary<IActorRef, WorkerSlots> _workers = new();
    private readonly Dictionary<string, Assignment> _assignments = new();
    private readonly HashSet<IActorRef> _departed = [];
    private readonly HashSet<string> _failing = [];
    private readonly Dictionary<string, List<(IActorRef Asker, DateTime Since, GetJobStatus Question)>> _watchers = new();
    private readonly DateTime _startedAt = DateTime.UtcNow;
    private MasterState _state = MasterState.Empty;

    public override string PersistenceId => PersistenceIdValue;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="findKvStore">Finds the kvstore actor within the timeout given (KvStoreLocator in a cluster).</param>
    public JobMaster(CatalogStore catalog, MapReduceSettings settings, Func<TimeSpan, Task<IActorRef>> findKvStore)
    {
        _catalog = catalog;
        _settings = settings;
        _findKvStore = findKvStore;
        _projection = Context.ActorOf(CatalogProjection.Props(catalog), "catalog-projection");

        Recover<IMasterEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ =>
        {
            var open = _state.Jobs.Values.Count(j => !j.IsFinished);
            _log.Info("job master recovered {0} jobs from the journal, {1} unfinished", _state.Jobs.Count, open);
            foreach (var job in _state.Jobs.Values.Where(j => !j.IsFinished)) _projection.Tell(new CatalogProjection.Project(null, job));
            // The master before may have died between journaling a job's end and asking for its
            // intermediate data to go: ask again for jobs that ended lately (deleting twice is harmless).
            foreach (var job in _state.Jobs.Values.Where(j => j.FinishedAt > DateTime.UtcNow - CleanupAgainWithin)) DropIntermediateData(job);
            Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromSeconds(1));
        });

        Command<SubmitJob>(OnSubmit);
        Command<GetJobStatus>(OnGetJobStatus);
        Command<DeleteDataset>(OnDeleteDataset);
        Command<DeletionFinished>(m =>
        {
            _deleting.Remove(m.DirId);
            m.Requester.Tell(m.Reply);
        });
        Command<RegisterWorker>(OnRegisterWorker);
        Command<Terminated>(m =>
        {
            _departed.Remove(m.ActorRef);
            DropWorker(m.ActorRef, "left the cluster");
        });
        Command<WorkerLeaving>(m =>
        {
            _departed.Add(m.Worker);
            DropWorker(m.Worker, "is shutting down");
        });
        Command<Tick>(_ => OnTick());
        Command<MapTaskSucceeded>(OnMapSucceeded);
        Command<ReduceTaskSucceeded>(OnReduceSucceeded);
        Command<TaskAttemptFailed>(OnTaskFailed);
        Command<TaskRejected>(m =>
        {
            if (_assignments.TryGetValue(m.AttemptId, out var rejected) && _workers.TryGetValue(rejected.Worker, out var full))
                full.Foreign = full.Slots; // it is busier than this master knew: no more tasks until it announces again
            if (!Release(m.AttemptId)) return;
            PersistAndApply(new TaskFailed(m.ExecId, m.TaskId, m.AttemptId, "worker had no free slot", false, DateTime.UtcNow), Dispatch);
        });
    }

    public static Props Props(CatalogStore catalog, MapReduceSettings settings, Func<TimeSpan, Task<IActorRef>> findKvStore) =>
        Akka.Actor.Props.Create(() => new JobMaster(catalog, settings, findKvStore));

    private void OnGetJobStatus(GetJobStatus m)
    {
        if (!_state.Jobs.TryGetValue(m.ExecId, out var job))
        {
            Sender.Tell(new UnknownJob(m.ExecId));
            return;
        }
        var status = StatusOf(job);
        if (status.IsFinished || status.MapsDone != m.KnownMapsDone || status.ReducesDone != m.KnownReducesDone)
        {
            Sender.Tell(status);
            return;
        }
        if (!_watchers.TryGetValue(m.ExecId, out var waiting)) _watchers[m.ExecId] = waiting = [];
        waiting.Add((Sender, DateTime.UtcNow, m));
    }

    /// <summary>Answers the held status questions of a job whose counts changed, or that waited long enough.</summary>
    private void AnswerWatchers(string execId, bool timedOutOnly)
    {
        if (!_watchers.TryGetValue(execId, out var waiting) || !_state.Jobs.TryGetValue(execId, out var job)) return;
        var status = StatusOf(job);
        var cutoff = DateTime.UtcNow - WatchFor;
        waiting.RemoveAll(w =>
        {
            var changed = status.IsFinished || status.MapsDone != w.Question.KnownMapsDone || status.ReducesDone != w.Question.KnownReducesDone;
            if (!changed && (!timedOutOnly || w.Since > cutoff)) return false;
            w.Asker.Tell(status);
            return true;
        });
        if (waiting.Count == 0) _watchers.Remove(execId);
    }

    private void OnSubmit(SubmitJob m)
    {
        var problem = Validate(m, out var chunks);
        if (problem is not null)
        {
            Sender.Tell(new JobRejected(problem));
            return;
        }
        var execId = $"job-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
        var maps = MapSplits.Plan(chunks, _settings.SplitSize);
        var submitter = Sender;
        PersistAndApply(new JobSubmitted(execId, m.CodeId, m.DirId, m.Reducers, maps, DateTime.UtcNow), () =>
        {
            _log.Info("job {0}: {1} map tasks, {2} reduce tasks (code {3}, data {4})", execId, maps.Length, m.Reducers, m.CodeId, m.DirId);
            submitter.Tell(new JobAccepted(execId, maps.Length, m.Reducers));
            Dispatch();
        });
    }

    private string? Validate(SubmitJob m, out IReadOnlyList<ChunkRow> chunks)
    {
        chunks = [];
        if (m.Reducers is < 1 or > 10_000) return $"--reducers must be between 1 and 10000, not {m.Reducers}";
        try
        {
            if (_deleting.Contains(m.DirId)) return $"dataset '{m.DirId}' is being deleted";
            if (_catalog.GetDataset(m.DirId) is null) return $"dataset '{m.DirId}' is not in the store";
            if (_catalog.GetCode(m.CodeId) is null) return $"code '{m.CodeId}' is not in the store";
            chunks = _catalog.GetChunks(m.DirId);
            return null;
        }
        catch (Exception e) when (e is LinqToDB.LinqToDBException or System.Data.Common.DbException)
        {
            return $"the catalog cannot be read: {e.Message}";
        }
    }

    private void OnDeleteDataset(DeleteDataset m)
    {
        var reader = _state.Jobs.Values.Where(j => !j.IsFinished && j.DirId == m.DirId).OrderBy(j => j.SubmittedAt).FirstOrDefault();
        if (reader is not null)
        {
            Sender.Tell(new DeleteRejected($"dataset '{m.DirId}' is the input of job {reader.ExecId}, which has not finished; delete it after the job ends"));
            return;
        }
        if (!_deleting.Add(m.DirId))
        {
            Sender.Tell(new DeleteRejected($"dataset '{m.DirId}' is already being deleted"));
            return;
        }
        var requester = Sender;
        RemoveDatasetAsync(m.DirId).PipeTo(Self, success: reply => new DeletionFinished(m.DirId, requester, reply));
    }

    private async Task<object> RemoveDatasetAsync(string dirId)
    {
        try
        {
            var kvstore = await _findKvStore(KvStoreTimeout).ConfigureAwait(false);
            return await kvstore.Ask<object>(new KvStoreProtocol.RemoveDataset(dirId), KvStoreTimeout).ConfigureAwait(false) switch
            {
                KvStoreProtocol.DatasetRemoved r => new DatasetDeleted(r.DirId, r.Chunks, r.Bytes),
                KvStoreProtocol.KvStoreFailure f => new DeleteRejected(f.Message),
                var other => new DeleteRejected($"the kvstore answered {other.GetType().Name}"),
            };
        }
        catch (Exception e)
        {
            return new DeleteRejected($"the kvstore did not delete dataset '{dirId}': {e.Message}");
        }
    }

    /// <summary>
    /// A job that ended needs none of its map runs, nor the outputs of reduce attempts that lost
    /// (a failed job: nothing at all). Without this the store would keep a job's whole
    /// intermediate data forever. Best effort, repeated after a restart for jobs that ended in the
    /// last <see cref="CleanupAgainWithin"/>: what is still left behind is only space.
    /// </summary>
    private void DropIntermediateData(JobState job)
    {
        string[] prefixes = job.Status == ExecutionStatus.Success
            ? [BlobKeys.MapRunsFolder(job.ExecId), .. job.Reduces.SelectMany(LosingAttempts).Select(a => BlobKeys.ReduceAttemptFolder(job.ExecId, a))]
            : [BlobKeys.JobFolder(job.ExecId)];
        var (log, execId) = (_log, job.ExecId);
        _ = Task.Run(async () =>
        {
            try
            {
                var kvstore = await _findKvStore(KvStoreTimeout).ConfigureAwait(false);
                kvstore.Tell(new KvStoreProtocol.RemoveFolders(prefixes));
            }
            catch (Exception e)
            {
                log.Warning("job {0}: its intermediate data stays in the store: {1}", execId, e.Message);
            }
        });

        static IEnumerable<string> LosingAttempts(TaskState task) =>
            Enumerable.Range(1, task.Attempts).Select(n => $"{task.TaskId}.{n}").Where(a => a != task.AcceptedAttempt);
    }

    private void OnRegisterWorker(RegisterWorker m)
    {
        if (_departed.Contains(m.Worker)) return;
        var now = DateTime.UtcNow;
        if (!_workers.TryGetValue(m.Worker, out var worker))
        {
            _workers[m.Worker] = worker = new WorkerSlots(m.Slots);
            Context.Watch(m.Worker);
            _log.Info("worker {0} joined with {1} slots", m.Worker.Path.Address, m.Slots);
        }
        worker.Slots = m.Slots;
        worker.LastSeen = now;

        // Adopt attempts this worker runs that the journal shows as the task's current attempt:
        // after a failover they finish where they are instead of starting again.
        foreach (var running in m.Running)
        {
            if (_assignments.ContainsKey(running.AttemptId)) continue;
            if (!_state.Jobs.TryGetValue(running.ExecId, out var job) || job.IsFinished) continue;
            var task = job.Task(running.TaskId);
            if (task.IsDone || task.CurrentAttempt != running.AttemptId) continue;
            _assignments[running.AttemptId] = new Assignment(m.Worker, running.ExecId, running.TaskId, now);
            worker.Running.Add(running.AttemptId);
        }
        var reported = m.Running.Select(r => r.AttemptId).ToHashSet();
        worker.Foreign = reported.Count(a => !worker.Running.Contains(a));

        // Attempts sent to this worker long enough ago that it would list them, but it does not: the message was lost.
        var lost = worker.Running
            .Where(a => !reported.Contains(a) && now - _assignments[a].Since > LostAfter)
            .ToList()
            .Select(a => Requeue(a, $"worker {m.Worker.Path.Address} never received it", counted: false))
            .ToList();
        PersistAllAndApply(lost, Dispatch);
    }

    /// <summary>Forgets a worker and re-queues every task it held (not counted against the retry limit: not the task's fault).</summary>
    private void DropWorker(IActorRef workerRef, string why)
    {
        if (!_workers.Remove(workerRef, out var worker)) return;
        Context.Unwatch(workerRef);
        _log.Warning("worker {0} {1}; re-queueing its {2} tasks", workerRef.Path.Address, why, worker.Running.Count);
        var lost = worker.Running.ToList().Select(a => Requeue(a, $"worker {workerRef.Path.Address} {why}", counted: false)).ToList();
        PersistAllAndApply(lost, Dispatch);
    }

    /// <summary>Releases an assignment and makes the event that puts its task back in the queue.</summary>
    private TaskFailed Requeue(string attemptId, string why, bool counted)
    {
        var assignment = _assignments[attemptId];
        Release(attemptId);
        return new TaskFailed(assignment.ExecId, assignment.TaskId, attemptId, why, counted, DateTime.UtcNow);
    }

    /// <summary>Once a second: drop silent workers, give up on hung attempts, and hand out what is runnable.</summary>
    private void OnTick()
    {
        var now = DateTime.UtcNow;
        foreach (var execId in _watchers.Keys.ToList()) AnswerWatchers(execId, timedOutOnly: true);
        foreach (var silent in _workers.Where(w => now - w.Value.LastSeen > _settings.WorkerTimeout).Select(w => w.Key).ToList())
            DropWorker(silent, $"has not answered for {_settings.WorkerTimeout.TotalSeconds:0} s");
        var hung = _assignments.Where(a => now - a.Value.Since > _settings.TaskTimeout).ToList();
        var failures = new List<TaskFailed>();
        foreach (var (attemptId, assignment) in hung)
        {
            // The worker still runs it, so its slot stays taken until the worker stops listing it.
            if (_workers.TryGetValue(assignment.Worker, out var worker)) worker.Foreign++;
            failures.Add(Requeue(attemptId, $"timed out after {_settings.TaskTimeout.TotalSeconds:0} s on {assignment.Worker.Path.Address}", counted: true));
        }
        if (failures.Count == 0)
        {
            Dispatch();
            return;
        }
        PersistAllAndApply(failures, () =>
        {
            foreach (var failed in failures) FailJobIfExhausted(failed.ExecId, failed.TaskId, failed.Error);
            Dispatch();
        });
    }

    private void OnMapSucceeded(MapTaskSucceeded m)
    {
        Release(m.AttemptId);
        if (!Accepts(m.ExecId, m.TaskId, m.AttemptId)) return;
        var nonEmpty = m.PairsPerPartition.Select((count, p) => (count, p)).Where(x => x.count > 0).Select(x => x.p).ToArray();
        PersistAndApply(new MapSucceeded(m.ExecId, m.TaskId, m.AttemptId, nonEmpty, DateTime.UtcNow), Dispatch);
    }

    private void OnReduceSucceeded(ReduceTaskSucceeded m)
    {
        Release(m.AttemptId);
        if (!Accepts(m.ExecId, m.TaskId, m.AttemptId)) return;
        PersistAndApply(new ReduceSucceeded(m.ExecId, m.TaskId, m.AttemptId, m.OutputKey, DateTime.UtcNow), () =>
        {
            var job = _state.Jobs[m.ExecId];
            if (!job.ReducesDone)
            {
                Dispatch();
                return;
            }
            var parts = job.Reduces.OrderBy(r => r.Index).Select(r => r.OutputKey!).ToArray();
            PersistAndApply(new JobSucceeded(m.ExecId, BlobKeys.ResultDirId(m.ExecId), parts, DateTime.UtcNow), () =>
            {
                _log.Info("job {0} succeeded", m.ExecId);
                DropIntermediateData(_state.Jobs[m.ExecId]);
                Dispatch();
            });
        });
    }

    private void OnTaskFailed(TaskAttemptFailed m)
    {
        Release(m.AttemptId);
        if (!Accepts(m.ExecId, m.TaskId, m.AttemptId)) return;
        _log.Warning("job {0}: attempt {1} failed ({2}): {3}", m.ExecId, m.AttemptId, m.Kind, m.Error);
        var counted = m.Kind != FailureKind.CompileError;
        PersistAndApply(new TaskFailed(m.ExecId, m.TaskId, m.AttemptId, m.Error, counted, DateTime.UtcNow), () =>
        {
            if (m.Kind == FailureKind.CompileError) FailJob(m.ExecId, m.Error);
            else FailJobIfExhausted(m.ExecId, m.TaskId, m.Error);
            Dispatch();
        });
    }

    private void FailJobIfExhausted(string execId, string taskId, string lastError)
    {
        var job = _state.Jobs[execId];
        var task = job.Task(taskId);
        if (job.IsFinished || task.CountedFailures < _settings.MaxTaskAttempts) return;
        FailJob(execId, $"{Describe(task)} failed {task.CountedFailures} times; last error: {lastError}");
    }

    private void FailJob(string execId, string reason)
    {
        if (_state.Jobs[execId].IsFinished || !_failing.Add(execId)) return;
        PersistAndApply(new JobFailed(execId, reason, DateTime.UtcNow), () =>
        {
            _log.Warning("job {0} failed: {1}", execId, reason);
            DropIntermediateData(_state.Jobs[execId]);
        });
        foreach (var attempt in _assignments.Where(a => a.Value.ExecId == execId).Select(a => a.Key).ToList()) Release(attempt);
    }

    private static string Describe(TaskState task) =>
        task.Kind == TaskKind.Map
            ? $"map task {task.TaskId} ({task.Input!.Chunks()[0].Describe()}{(task.Input.More is { Length: > 0 } more ? $", and {more.Length} more chunks" : "")})"
            : $"reduce task {task.TaskId} (partition {task.Index})";

    /// <summary>Whether a result for this attempt still counts: the job runs, the task is not done yet, and the attempt was issued.</summary>
    private bool Accepts(string execId, string taskId, string attemptId)
    {
        if (!_state.Jobs.TryGetValue(execId, out var job) || job.IsFinished) return false;
        var task = job.Task(taskId);
        if (task.IsDone) return false;
        var dot = attemptId.LastIndexOf('.');
        return dot > 0 && attemptId[..dot] == taskId && int.TryParse(attemptId[(dot + 1)..], out var n) && n >= 1 && n <= task.Attempts;
    }

    /// <summary>Frees the slot an attempt held; false when the master did not know the attempt (already released).</summary>
    private bool Release(string attemptId)
    {
        if (!_assignments.Remove(attemptId, out var assignment)) return false;
        if (_workers.TryGetValue(assignment.Worker, out var worker)) worker.Running.Remove(attemptId);
        return true;
    }

    /// <summary>
    /// Hands runnable tasks to workers with free slots, oldest job first. Each hand-out is journaled
    /// (TaskStarted) before the task is sent, so attempt numbers survive a failover.
    /// </summary>
    private void Dispatch()
    {
        var started = new List<(TaskStarted Event, IActorRef Worker)>();
        // A job whose JobFailed is being persisted hands out nothing more.
        foreach (var job in _state.Jobs.Values.Where(j => !j.IsFinished && !_failing.Contains(j.ExecId)).OrderBy(j => j.SubmittedAt))
        {
            foreach (var task in job.Runnable)
            {
                if (task.CurrentAttempt is not null && _assignments.ContainsKey(task.CurrentAttempt)) continue;
                if (task.Status == ExecutionStatus.Running && DateTime.UtcNow - _startedAt < RecoveryGrace) continue;
                var worker = _workers.Where(w => w.Value.Free > 0).OrderByDescending(w => w.Value.Free).Select(w => w.Key).FirstOrDefault();
                if (worker is null) goto send;
                var attemptId = task.NextAttemptId;
                _assignments[attemptId] = new Assignment(worker, job.ExecId, task.TaskId, DateTime.UtcNow);
                _workers[worker].Running.Add(attemptId);
                started.Add((new TaskStarted(job.ExecId, task.TaskId, attemptId, worker.Path.Address.ToString(), DateTime.UtcNow), worker));
            }
        }
        send:
        if (started.Count == 0) return;
        var workers = started.ToDictionary(s => s.Event.AttemptId, s => s.Worker);
        PersistAll(started.Select(s => s.Event), e =>
        {
            ApplyAndProject(e);
            var job = _state.Jobs[e.ExecId];
            var task = job.Task(e.TaskId);
            object run = task.Kind == TaskKind.Map
                ? new WorkerProtocol.RunMapTask(job.ExecId, task.TaskId, e.AttemptId, job.CodeId, task.Input!.Chunks(), job.Reducers)
                : new WorkerProtocol.RunReduceTask(job.ExecId, task.TaskId, e.AttemptId, job.CodeId, task.Index, job.RunKeysFor(task.Index), BlobKeys.ReduceOutput(job.ExecId, e.AttemptId, task.Index));
            workers[e.AttemptId].Tell(run);
        });
    }

    private void PersistAndApply(IMasterEvent e, Action then) => Persist(e, persisted =>
    {
        ApplyAndProject(persisted);
        then();
    });

    private void PersistAllAndApply(IReadOnlyList<IMasterEvent> events, Action then)
    {
        if (events.Count == 0)
        {
            then();
            return;
        }
        var remaining = events.Count;
        PersistAll(events, persisted =>
        {
            ApplyAndProject(persisted);
            if (--remaining == 0) then();
        });
    }

    private void ApplyAndProject(IMasterEvent e)
    {
        _state = _state.Apply(e);
        if (!_state.Jobs.TryGetValue(e.ExecId, out var job)) return;
        _projection.Tell(new CatalogProjection.Project(e, job));
        if (e is not TaskStarted) AnswerWatchers(e.ExecId, timedOutOnly: false);
    }

    private static JobStatus StatusOf(JobState job) => new(
        job.ExecId, job.Status,
        job.Maps.Count(t => t.IsDone), job.Maps.Length,
        job.Reduces.Count(t => t.IsDone), job.Reduces.Length,
        job.Error, job.ResultDirId, [.. job.ResultParts]);
}
