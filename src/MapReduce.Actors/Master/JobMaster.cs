using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using MapReduce.Actors.Hosting;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Master.MasterProtocol;
using static MapReduce.Actors.Worker.WorkerProtocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// The job master: a cluster singleton that journals every job and task transition. This actor is
/// the shell around pure parts, as Akka's sharding coordinator is: it persists, recovers and
/// snapshots <see cref="MasterState"/>, asks <see cref="Scheduler"/> where tasks go, keeps
/// workers in a <see cref="WorkerRegistry"/>, holds long polls in <see cref="StatusWatchers"/>,
/// and leaves SQL to <see cref="CatalogProjection"/> and kvstore deletions to <see cref="StoreJanitor"/>.
/// A finished job is archived (forgotten) once the catalog holds its final state, so memory and
/// recovery do not grow with the jobs the master has run.
/// While the kvstore is away (<see cref="RoleWatch"/> reports it, <see cref="WaitTracker"/> keeps it)
/// the running jobs wait: no task is handed out, their statuses say what they wait for, and an
/// attempt that fails on storage or times out while the kvstore was away does not count against its task.
/// </summary>
public sealed class JobMaster : ReceivePersistentActor, IWithTimers
{
    public const string PersistenceIdValue = "job-master";

    /// <summary>Sent by the master's timer (and by tests driving a fake clock): look for silent workers and hung attempts, answer old long polls, hand out work.</summary>
    public sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Admission(SubmitJob Job, IActorRef Submitter, JobAdmission.Admitted Result);

    private sealed record ArchivedAnswer(IActorRef Asker, JobId Job, JobStatus? Status);
    private sealed record CancelAnswer(IActorRef Asker, object Answer);

    private readonly CatalogStore _catalog;
    private readonly MasterSettings _settings;
    private readonly TimeProvider _clock;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _projection;
    private readonly IActorRef _janitor;
    private readonly WorkerRegistry _workers = new();
    private readonly WaitTracker _waits = new();
    private readonly StatusWatchers _watchers;
    /// <summary>Datasets the kvstore is deleting: no job may start on them meanwhile.</summary>
    private readonly HashSet<string> _deleting = [];
    /// <summary>Jobs whose JobFailed is being persisted: they hand out nothing more.</summary>
    private readonly HashSet<JobId> _failing = [];
    private readonly ArchiveTracker _archiving = new();
    private readonly JobIdIssuer _ids = new();
    private readonly SnapshotSchedule _snapshots;
    private readonly DateTime _startedAt;
    /// <summary>When recovery began, in real time: the log says how long the replay took.</summary>
    private readonly long _recoveryStarted = System.Diagnostics.Stopwatch.GetTimestamp();
    private MasterState _state = MasterState.Empty;

    public override string PersistenceId => PersistenceIdValue;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="findKvStore">Finds the kvstore actor within the timeout given (KvStoreLocator in a cluster).</param>
    /// <param name="kvstoreWatch">
    /// The child that reports the kvstore's comings and goings (<see cref="RoleWatch"/> on the kvstore
    /// role, in a cluster whose tasks read and write blobs through it); null: none (tests send its
    /// reports themselves; with an object store tasks do not need the kvstore).
    /// </param>
    public JobMaster(CatalogStore catalog, MasterSettings settings, Func<TimeSpan, Task<IActorRef>> findKvStore, TimeProvider clock, Props? kvstoreWatch = null)
    {
        _catalog = catalog;
        _settings = settings;
        _clock = clock;
        _startedAt = Now;
        _watchers = new StatusWatchers(_waits);
        _snapshots = new SnapshotSchedule(settings.SnapshotAfter);
        _projection = Context.ActorOf(CatalogProjection.Props(catalog), "catalog-projection");
        _janitor = Context.ActorOf(StoreJanitor.Props(findKvStore, settings.KvStoreTimeout, settings.CancelGrace), "store-janitor");
        if (kvstoreWatch is not null) Context.ActorOf(kvstoreWatch, "kvstore-watch");

        Recover<SnapshotOffer>(o =>
        {
            _state = MasterState.From((MasterSnapshot)o.Snapshot);
            _snapshots.Recovered(o.Metadata.SequenceNr);
        });
        Recover<IMasterEvent>(e =>
        {
            if (_state.Problem(e) is { } problem) _log.Error("journal event {0} skipped ({1} of job {2}): {3}", LastSequenceNr, e.GetType().Name, e.JobId, problem);
            else _state = _state.Apply(e);
        });
        Recover<RecoveryCompleted>(_ => OnRecovered());

        Command<SubmitJob>(OnSubmit);
        Command<Admission>(OnAdmission);
        Command<GetJobStatus>(OnGetJobStatus);
        Command<ArchivedAnswer>(m => m.Asker.Tell(m.Status is null ? new UnknownJob(m.Job) : m.Status));
        Command<CancelJob>(OnCancelJob);
        Command<CancelAnswer>(m => m.Asker.Tell(m.Answer));
        Command<GetWorkers>(_ => Sender.Tell(new WorkerList(_workers.Describe())));
        Command<DeleteDataset>(OnDeleteDataset);
        Command<StoreJanitor.DatasetRemovalEnded>(m =>
        {
            _deleting.Remove(m.DatasetId);
            m.Requester.Tell(m.Reply);
        });
        Command<RegisterWorker>(OnRegisterWorker);
        Command<WorkerLeaving>(OnWorkerLeaving);
        Command<Terminated>(m => LoseWorker(m.ActorRef));
        Command<Tick>(_ => OnTick());
        Command<RoleWatch.RoleAway>(m => BeginWait(m.Role, m.Reason));
        Command<RoleWatch.RoleBack>(m => EndWait(m.Role));
        Command<MapTaskSucceeded>(OnMapSucceeded);
        Command<ReduceTaskSucceeded>(OnReduceSucceeded);
        Command<TaskAttemptFailed>(OnTaskFailed);
        Command<TaskRejected>(m =>
        {
            if (!FromItsWorker(m.Attempt, "a refusal")) return;
            if (_workers.AssignmentOf(m.Attempt) is { } held) _workers.StillBusy(held.Worker, allSlots: true); // busier than this master knew
            if (_workers.Release(m.Attempt) is null) return;
            PersistEvents([Failed(m.Attempt, "worker had no free slot", counted: false, lost: true)], Dispatch);
        });
        Command<CatalogProjection.JobProjected>(m => Archive(m.Job, _archiving.Done(m.Job, projected: true)));
        Command<StoreJanitor.CleanedUp>(m => Archive(m.Job, _archiving.Done(m.Job, cleanedUp: true)));
        Command<SaveSnapshotSuccess>(m =>
        {
            _snapshots.Saved(m.Metadata.SequenceNr);
            _log.Info("snapshot at event {0} ({1} jobs held); older events and snapshots are deleted", m.Metadata.SequenceNr, _state.Jobs.Count);
            DeleteMessages(m.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(m.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(m =>
        {
            _snapshots.Failed();
            _log.Warning("snapshot at event {0} failed: {1}", m.Metadata.SequenceNr, m.Cause.Message);
        });
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteMessagesFailure>(m => _log.Warning("old journal events were not deleted: {0}", m.Cause.Message));
        Command<DeleteSnapshotsFailure>(m => _log.Warning("old snapshots were not deleted: {0}", m.Cause.Message));
    }

    public static Props Props(CatalogStore catalog, MasterSettings settings, Func<TimeSpan, Task<IActorRef>> findKvStore, TimeProvider? clock = null,
        Props? kvstoreWatch = null) =>
        Akka.Actor.Props.Create(() => new JobMaster(catalog, settings, findKvStore, clock ?? TimeProvider.System, kvstoreWatch));

    private DateTime Now => _clock.GetUtcNow().UtcDateTime;

    private void OnRecovered()
    {
        var open = _state.Jobs.Values.Count(j => !j.IsFinished);
        _log.Info("job master recovered {0} jobs from the journal, {1} unfinished, in {2:0} ms", _state.Jobs.Count, open,
            System.Diagnostics.Stopwatch.GetElapsedTime(_recoveryStarted).TotalMilliseconds);
        // Unfinished jobs are projected again (rows may have waited in the buffer when the last
        // master died); finished ones not yet archived go through archiving again.
        foreach (var job in _state.Jobs.Values)
        {
            _projection.Tell(new CatalogProjection.Project(null, job, _waits.Current));
            if (job.IsFinished) StartArchiving(job);
        }
        Timers.StartPeriodicTimer("tick", Tick.Instance, _settings.TickInterval);
    }

    private void OnSubmit(SubmitJob m)
    {
        if (_deleting.Contains(m.DatasetId))
        {
            Sender.Tell(new JobRejected($"dataset '{m.DatasetId}' is being deleted"));
            return;
        }
        var (catalog, settings, submitter) = (_catalog, _settings, Sender);
        Task.Run(() => JobAdmission.Check(catalog, settings, m)).PipeTo(Self, success: result => new Admission(m, submitter, result));
    }

    private void OnAdmission(Admission m)
    {
        var problem = m.Result.Problem ?? (_deleting.Contains(m.Job.DatasetId) ? $"dataset '{m.Job.DatasetId}' is being deleted" : null);
        if (problem is not null)
        {
            m.Submitter.Tell(new JobRejected(problem));
            return;
        }
        var id = _ids.Next(Now, _state.Jobs.ContainsKey);
        PersistEvents([new JobSubmitted(id.Value, m.Job.CodeId, m.Job.DatasetId, m.Job.Reducers, m.Result.Maps, Now)], () =>
        {
            _log.Info("job {0}: {1} map tasks, {2} reduce tasks (code {3}, data {4})", id, m.Result.Maps.Length, m.Job.Reducers, m.Job.CodeId, m.Job.DatasetId);
            m.Submitter.Tell(new JobAccepted(id, m.Result.Maps.Length, m.Job.Reducers));
            Dispatch();
        });
    }

    private void OnGetJobStatus(GetJobStatus m)
    {
        if (_state.Jobs.TryGetValue(m.JobId, out var job))
        {
            _watchers.Ask(m, Sender, job, Now);
            return;
        }
        var (catalog, asker) = (_catalog, Sender);
        Task.Run(() => JobAdmission.ArchivedStatus(catalog, m.JobId)).PipeTo(Self, success: status => new ArchivedAnswer(asker, m.JobId, status),
            failure: e => new ArchivedAnswer(asker, m.JobId, null));
    }

    private void OnDeleteDataset(DeleteDataset m)
    {
        var reader = _state.Jobs.Values.Where(j => !j.IsFinished && j.DatasetId == m.DatasetId).OrderBy(j => j.SubmittedAt).FirstOrDefault();
        if (reader is not null)
        {
            Sender.Tell(new DeleteRejected($"dataset '{m.DatasetId}' is the input of job {reader.Id}, which has not finished; delete it after the job ends"));
            return;
        }
        if (!_deleting.Add(m.DatasetId))
        {
            Sender.Tell(new DeleteRejected($"dataset '{m.DatasetId}' is already being deleted"));
            return;
        }
        _janitor.Tell(new StoreJanitor.RemoveDataset(m.DatasetId, Sender));
    }

    private void OnRegisterWorker(RegisterWorker m)
    {
        // After a take-over, attempts a worker still runs that the journal shows as their task's
        // current attempt are adopted: they finish where they are instead of starting again.
        var outcome = _workers.Announce(m.Worker, m.Slots, m.Running, IsCurrentAttempt, Now, _settings.LostAfter);
        if (outcome is not var (joined, lost)) return;
        if (joined)
        {
            Context.Watch(m.Worker);
            _log.Info("worker {0} joined with {1} slots", m.Worker.Path.Address, m.Slots);
        }
        PersistEvents(lost.Select(a => Failed(a, $"worker {m.Worker.Path.Address} never received it", counted: false, lost: true)).ToList(), Dispatch);
    }

    private bool IsCurrentAttempt(AttemptId a) =>
        _state.Jobs.TryGetValue(a.Job, out var job) && !job.IsFinished && job.HasTask(a.Task) && job.Task(a.Task) is { IsDone: false } t && t.CurrentAttempt == a.Number;

    /// <summary>
    /// A worker going away. Stopped on purpose: its attempts are re-queued without counting. Its
    /// process exiting under user code: the attempt whose code called the exit counts as a failure
    /// (all it held, when that attempt is unknown), so a Map that always exits fails its job.
    /// </summary>
    private void OnWorkerLeaving(WorkerLeaving m)
    {
        _workers.Depart(m.Worker);
        // Still watched: its Terminated later clears the departure from the registry.
        var held = _workers.Drop(m.Worker);
        if (held is null) return;
        var address = m.Worker.Path.Address;
        var events = held.Select(a => m.Exit is { } exit && (exit.Culprit is null ? exit.ExitCode != 0 : exit.Culprit == a)
            ? Failed(a, $"worker process exited with code {exit.ExitCode} while running {a.Task.Describe()}", counted: true)
            : Failed(a, $"worker {address} is shutting down", counted: false, lost: true)).ToList();
        _log.Warning("worker {0} is leaving{1}; re-queueing its {2} tasks", address, m.Exit is { } e ? $" (exit code {e.ExitCode})" : "", held.Count);
        PersistEvents(events, AfterFailures(events));
    }

    /// <summary>A worker that vanished (its node was downed or left) without saying why: what it ran may have killed it, so each attempt counts.</summary>
    private void LoseWorker(IActorRef worker, string? why = null)
    {
        if (_workers.Drop(worker, forgetDeparture: true) is not { } held) return;
        Context.Unwatch(worker);
        why ??= "was lost (its process died or its node became unreachable)";
        _log.Warning("worker {0} {1}; re-queueing its {2} tasks", worker.Path.Address, why, held.Count);
        var events = held.Select(a => Failed(a, $"worker {worker.Path.Address} {why} while running {a.Task.Describe()}", counted: true, lost: true)).ToList();
        PersistEvents(events, AfterFailures(events));
    }

    private void OnTick()
    {
        var now = Now;
        foreach (var job in _watchers.Jobs.ToList()) _watchers.Answer(_state.Jobs.GetValueOrDefault(job), job, heldSince: now - _settings.LongPoll);
        foreach (var silent in _workers.SilentFor(_settings.WorkerTimeout, now))
            LoseWorker(silent, $"has not answered for {_settings.WorkerTimeout.TotalSeconds:0} s");
        var failures = new List<TaskFailed>();
        foreach (var (attempt, assignment) in _workers.RunningLongerThan(_settings.TaskTimeout, now))
        {
            // The worker is asked to stop it; its slot stays taken until the worker stops listing it.
            _workers.Release(attempt);
            _workers.StillBusy(assignment.Worker);
            var why = $"timed out after {_settings.TaskTimeout.TotalSeconds:0} s on {assignment.Worker.Path.Address}";
            assignment.Worker.Tell(new CancelAttempt(attempt, why));
            // An attempt that waited for the kvstore is not hung: it is run again, uncounted, once the kvstore is back.
            var waited = KvStoreAwaySince(assignment.Since);
            failures.Add(Failed(attempt, waited ? why + NotCounted : why, counted: !waited, lost: true));
        }
        PersistEvents(failures, AfterFailures(failures));
    }

    private void OnMapSucceeded(MapTaskSucceeded m)
    {
        if (!FromItsWorker(m.Attempt, "a success")) return;
        _workers.Release(m.Attempt);
        if (!Accepts(m.Attempt)) return;
        var nonEmpty = m.PairsPerPartition.Select((count, p) => (count, p)).Where(x => x.count > 0).Select(x => x.p).ToArray();
        PersistEvents([new MapSucceeded(m.Attempt.Job.Value, m.Attempt.Task.ToString(), m.Attempt.Name, nonEmpty, Now, m.Counters)], Dispatch);
    }

    private void OnReduceSucceeded(ReduceTaskSucceeded m)
    {
        if (!FromItsWorker(m.Attempt, "a success")) return;
        _workers.Release(m.Attempt);
        if (!Accepts(m.Attempt)) return;
        var job = m.Attempt.Job;
        PersistEvents([new ReduceSucceeded(job.Value, m.Attempt.Task.ToString(), m.Attempt.Name, BlobKeys.ReduceOutput(m.Attempt), Now, m.Counters)], () =>
        {
            var state = _state.Jobs[job];
            if (!state.AllReducesDone)
            {
                Dispatch();
                return;
            }
            var parts = BlobKeys.ResultParts(job, state.PartAttempts());
            PersistEvents([new JobSucceeded(job.Value, state.ResultDatasetId, parts, Now)], () =>
            {
                _log.Info("job {0} succeeded", job);
                StartArchiving(_state.Jobs[job]);
                Dispatch();
            });
        });
    }

    private void OnTaskFailed(TaskAttemptFailed m)
    {
        // A stopped attempt was accounted for when the master stopped it; its slot on the sender is
        // free again (a sender can only free its own slots this way, so it need not be checked).
        if (m.Kind == FailureKind.Stopped && _workers.AssignmentOf(m.Attempt) is null)
        {
            _workers.StoppedOn(Sender);
            Dispatch();
            return;
        }
        if (!FromItsWorker(m.Attempt, "a failure")) return;
        var held = _workers.Release(m.Attempt);
        if (!Accepts(m.Attempt)) return;
        _log.Warning("job {0}: attempt {1} failed ({2}): {3}", m.Attempt.Job, m.Attempt.Name, m.Kind, m.Error);
        // Storage trouble while the kvstore was away is the kvstore's absence, not the task's fault:
        // the task is run again once the kvstore is back, with its retry budget untouched.
        var excused = m.Kind == FailureKind.Infrastructure && KvStoreAwaySince(held?.Since ?? Now);
        var failed = excused
            ? Failed(m.Attempt, m.Error + NotCounted, counted: false)
            : Failed(m.Attempt, m.Error, counted: m.Kind != FailureKind.CompileError);
        PersistEvents([failed], () =>
        {
            if (m.Kind == FailureKind.CompileError) FailJob(m.Attempt.Job, m.Error);
            else FailIfExhausted(failed);
            Dispatch();
        });
    }

    private const string NotCounted = " (not counted: the kvstore was away)";

    /// <summary>Whether the kvstore was away at some time since <paramref name="since"/> (an attempt's start), as this master saw the cluster.</summary>
    private bool KvStoreAwaySince(DateTime since) => _waits.WasAwayDuring(NodeRoles.KvStore, since);

    /// <summary>The running jobs wait for <paramref name="what"/> from now on: nothing is handed out, and their statuses say so.</summary>
    private void BeginWait(string what, string reason)
    {
        if (!_waits.Begin(what, reason, Now)) return;
        _log.Warning("waiting for the {0} ({1}): no task is handed out until it is back", what, reason);
        WaitsChanged();
    }

    private void EndWait(string what)
    {
        if (_waits.End(what, Now) is not { } waited) return;
        _log.Info("the {0} is back after {1:0} s: tasks are handed out again", what, waited.TotalSeconds);
        WaitsChanged();
        Dispatch();
    }

    /// <summary>Every running job's catalog row and held status question learn what the jobs wait for now.</summary>
    private void WaitsChanged()
    {
        foreach (var job in _state.Jobs.Values.Where(j => !j.IsFinished)) _projection.Tell(new CatalogProjection.Project(null, job, _waits.Current));
        _watchers.AnswerAll(id => _state.Jobs.GetValueOrDefault(id));
    }

    private Action AfterFailures(IReadOnlyList<TaskFailed> failures) => () =>
    {
        foreach (var failed in failures) FailIfExhausted(failed);
        Dispatch();
    };

    /// <summary>A task that failed max-task-attempts counted times fails its job, with the last error.</summary>
    private void FailIfExhausted(TaskFailed failed)
    {
        if (!_state.Jobs.TryGetValue(new JobId(failed.JobId), out var job) || job.IsFinished) return;
        var task = job.Task(TaskId.Parse(failed.TaskId));
        if (task.IsDone || task.CountedFailures < _settings.MaxTaskAttempts) return;
        FailJob(job.Id, $"{task.Describe()} failed {task.CountedFailures} times; last error: {failed.Error}");
    }

    private void FailJob(JobId id, string reason) =>
        EndJob(id, new JobFailed(id.Value, reason, Now), $"job {id} failed", () => _log.Warning("job {0} failed: {1}", id, reason));

    /// <summary>
    /// A running job that is told to stop is ended by one event: answered at once (the asker
    /// waits only for the journal), its attempts stopped on their workers, its data cleaned up.
    /// </summary>
    private void OnCancelJob(CancelJob m)
    {
        if (_state.Jobs.TryGetValue(m.JobId, out var job))
        {
            if (job.IsFinished || _failing.Contains(job.Id))
            {
                Sender.Tell(new CancelRejected($"job {job.Id} has already {Ended(job.IsFinished ? job.Stage : JobStage.Failed)}; only a running job can be cancelled"));
                return;
            }
            var asker = Sender;
            EndJob(job.Id, new JobCancelled(job.Id.Value, Now), $"job {job.Id} was cancelled", () =>
            {
                _log.Info("job {0} cancelled", job.Id);
                asker.Tell(StatusWatchers.StatusOf(_state.Jobs[job.Id], _waits.Current));
            });
            return;
        }
        var (catalog, sender) = (_catalog, Sender);
        Task.Run(() => JobAdmission.ArchivedStatus(catalog, m.JobId)).PipeTo(Self,
            success: status => new CancelAnswer(sender, status is null ? new UnknownJob(m.JobId)
                : new CancelRejected($"job {m.JobId} has already {Ended(status.Stage)}; only a running job can be cancelled")),
            failure: _ => new CancelAnswer(sender, new UnknownJob(m.JobId)));
    }

    private static string Ended(JobStage stage) => stage switch
    {
        JobStage.Succeeded => "succeeded",
        JobStage.Cancelled => "been cancelled",
        _ => "failed",
    };

    /// <summary>Ends a running job with <paramref name="end"/>: its other attempts are stopped where they run, so their slots come free.</summary>
    private void EndJob(JobId id, IMasterEvent end, string why, Action then)
    {
        if (_state.Jobs[id].IsFinished || !_failing.Add(id)) return;
        foreach (var attempt in _workers.AttemptsOf(id))
        {
            var held = _workers.Release(attempt)!;
            _workers.StillBusy(held.Worker);
            held.Worker.Tell(new CancelAttempt(attempt, why));
        }
        PersistEvents([end], () =>
        {
            _failing.Remove(id);
            then();
            StartArchiving(_state.Jobs[id]);
        });
    }

    /// <summary>
    /// Whether the sender of a report about this attempt is the worker it was given to: any other
    /// member could otherwise report results for attempts it never ran. An attempt handed out
    /// before a take-over, that no worker has announced to this master yet, is checked against
    /// the node address the journal recorded for the task's current attempt.
    /// </summary>
    private bool FromItsWorker(AttemptId a, string what)
    {
        if (_workers.GivenTo(a) is { } worker)
        {
            if (worker.Equals(Sender)) return true;
        }
        // An archived job (or none): no result counts any more, so there is nothing to guard or to report.
        else if (!_state.Jobs.TryGetValue(a.Job, out var job)) return false;
        else if (job.HasTask(a.Task) && job.Task(a.Task) is var task && task.CurrentAttempt == a.Number && task.Worker == Sender.Path.Address.ToString())
            return true;
        _log.Warning("ignored {0} for attempt {1} from {2}, which it was not given to", what, a, Sender.Path);
        return false;
    }

    /// <summary>Whether a result for this attempt still counts: the job runs, the task is not done yet, and the attempt was issued.</summary>
    private bool Accepts(AttemptId a) =>
        _state.Jobs.TryGetValue(a.Job, out var job) && !job.IsFinished && job.HasTask(a.Task)
        && job.Task(a.Task) is { IsDone: false } task && a.Number >= 1 && a.Number <= task.Attempts;

    private void StartArchiving(JobState job)
    {
        _archiving.Start(job.Id);
        _janitor.Tell(new StoreJanitor.CleanUp(job));
    }

    private void Archive(JobId id, bool ready)
    {
        if (ready) PersistEvents([new JobArchived(id.Value, Now)], () => _workers.ForgetJob(id));
    }

    /// <summary>
    /// Hands runnable tasks to free slots in the order the <see cref="Scheduler"/> decides. Each
    /// hand-out is journaled (TaskStarted) before the task is sent, so attempt numbers survive a take-over.
    /// Nothing is handed out while the jobs wait for something (the kvstore): it resumes when the wait ends.
    /// </summary>
    private void Dispatch()
    {
        // A task handed out now would only wait for what the jobs wait for (or fail on it).
        if (_waits.Any) return;
        var now = Now;
        var decisions = Scheduler.Plan(_state.Jobs.Values.Where(j => !j.IsFinished && !_failing.Contains(j.Id)), _workers.RunningPerJob(),
            _workers.FreeSlots(), MayStart, _settings.Scheduling);
        if (decisions.Count == 0) return;
        var events = new List<TaskStarted>();
        var targets = new Dictionary<AttemptId, IActorRef>();
        foreach (var d in decisions)
        {
            var attempt = new AttemptId(d.Job, d.Task.Id, d.Task.Attempts + 1);
            _workers.Assign(attempt, d.Worker, now);
            targets[attempt] = d.Worker;
            events.Add(new TaskStarted(d.Job.Value, d.Task.Id.ToString(), attempt.Name, d.Worker.Path.Address.ToString(), now));
        }
        PersistEvents(events, () =>
        {
            foreach (var (attempt, worker) in targets)
            {
                var job = _state.Jobs[attempt.Job];
                object run = attempt.Task.Kind == TaskKind.Map
                    ? new RunMapTask(attempt, job.CodeId, job.Task(attempt.Task).Input!.Chunks(), job.Reducers)
                    : new RunReduceTask(attempt, job.CodeId, job.MapAttemptsFor(attempt.Task.Index));
                worker.Tell(run);
            }
        });
    }

    /// <summary>Not while a worker holds the task's current attempt, nor, just after a take-over, while its worker may still claim it.</summary>
    private bool MayStart(JobState job, TaskState task) =>
        !(task.CurrentAttempt is { } n && _workers.Holds(new AttemptId(job.Id, task.Id, n)))
        && !(task.Stage == TaskStage.Running && Now - _startedAt < _settings.RecoveryGrace);

    /// <param name="lost">The attempt did not end by its own code (worker gone, timed out, never arrived).</param>
    private TaskFailed Failed(AttemptId a, string why, bool counted, bool lost = false) =>
        new(a.Job.Value, a.Task.ToString(), a.Name, why, counted, Now, lost);

    /// <summary>Persists the events (in one batch), applies and projects each, then runs <paramref name="then"/> once; snapshots when due.</summary>
    private void PersistEvents<TEvent>(IReadOnlyList<TEvent> events, Action then) where TEvent : IMasterEvent
    {
        // Checked against the state before the batch: the master never batches events that depend on each other.
        if (events.Any(e => _state.Problem(e) is not null))
        {
            foreach (var e in events)
                if (_state.Problem(e) is { } problem) _log.Error("not journaled ({0} of job {1}): {2}", e.GetType().Name, e.JobId, problem);
            events = events.Where(e => _state.Problem(e) is null).ToList();
        }
        if (events.Count == 0)
        {
            then();
            return;
        }
        var remaining = events.Count;
        PersistAll(events, persisted =>
        {
            _state = _state.Apply(persisted);
            if (_state.Jobs.TryGetValue(new JobId(persisted.JobId), out var job))
            {
                _projection.Tell(new CatalogProjection.Project(persisted, job, _waits.Current));
                if (persisted is not TaskStarted) _watchers.Answer(job, job.Id);
            }
            if (--remaining > 0) return;
            then();
            SnapshotIfDue();
        });
    }

    private void SnapshotIfDue()
    {
        if (_snapshots.Due(LastSequenceNr)) SaveSnapshot(_state.ToSnapshot());
    }
}
