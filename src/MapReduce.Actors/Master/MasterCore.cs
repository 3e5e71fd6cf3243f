using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Metrics;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// What the job master does with each command, as Akka's ShardCoordinator is to its persistent
/// shell: a plain class that the shell (<see cref="JobMaster"/>) hands every command and a persist
/// function. Events are applied to <see cref="State"/> at once, in order (so the next command sees
/// them) and journaled in the background, batched with those of the commands that follow; what must
/// not happen before they are durable (a task sent, an answer, a catalog row, archiving) runs once
/// they are. The decisions themselves are pure and tested on their own: <see cref="Scheduler"/> and
/// <see cref="Dispatch"/> (which task goes where), <see cref="FailureRules"/> (what a failure
/// counts), <see cref="JobEnding"/> (when a job ends), <see cref="AttemptLifecycle"/> (what may
/// happen to an attempt).
/// </summary>
public sealed class MasterCore
{
    /// <summary>Journals the events (already applied), then runs the action; with no events, runs it once everything journaled before is durable.</summary>
    public delegate void PersistFunction(IReadOnlyList<IMasterEvent> events, Action then);

    private sealed record Admission(SubmitJob Job, IActorRef Submitter, JobAdmission.Admitted Result);

    private readonly IActorContext _context;
    private readonly CatalogStore _catalog;
    private readonly MasterSettings _settings;
    private readonly TimeProvider _clock;
    private readonly ILoggingAdapter _log;
    private readonly IActorRef _projection;
    private readonly IActorRef _janitor;
    private readonly PersistFunction _persist;
    private readonly WorkerRegistry _workers;
    private readonly WaitTracker _waits = new();
    private readonly StatusWatchers _watchers;
    /// <summary>Datasets the kvstore is deleting: no job may start on them meanwhile.</summary>
    private readonly HashSet<string> _deleting = [];
    private readonly ArchiveTracker _archiving = new();
    private readonly JobIdIssuer _ids = new();
    /// <summary>Each running job's tasks waiting for a slot, by phase (made when first needed, so a replay builds none).</summary>
    private readonly Dictionary<(JobId, TaskKind), PendingTasks> _pending = new();
    private readonly DateTime _startedAt;
    /// <summary>Whether the recovery grace is over: tasks the journal shows running that no worker claimed may start again.</summary>
    private bool _graceOver;
    /// <summary>How long each finished task of a running job's phase ran, for <see cref="Speculation"/> (this master's own observations: not journaled).</summary>
    private readonly Dictionary<(JobId, TaskKind), List<TimeSpan>> _runtimes = new();
    /// <summary>When the jobs last stopped waiting (for the kvstore): an attempt that waited is no straggler, so its runtime counts from then.</summary>
    private DateTime _waitEndedAt = DateTime.MinValue;

    public MasterCore(IActorContext context, CatalogStore catalog, MasterSettings settings, TimeProvider clock, ILoggingAdapter log,
        IActorRef projection, IActorRef janitor, PersistFunction persist)
    {
        (_context, _catalog, _settings, _clock, _log, _projection, _janitor, _persist) = (context, catalog, settings, clock, log, projection, janitor, persist);
        _workers = new WorkerRegistry(refused => _log.Error(refused));
        _watchers = new StatusWatchers(_waits, settings.StatusInterval);
        _startedAt = Now;
    }

    public MasterState State { get; private set; } = MasterState.Empty;

    private DateTime Now => _clock.GetUtcNow().UtcDateTime;

    // ---- recovery ----

    public void Restore(MasterSnapshot snapshot) => State = MasterState.From(snapshot);

    /// <summary>One journaled event; one that does not fit the state (forged, or written by hand) is skipped, so it cannot stop every later take-over.</summary>
    public void Replay(IMasterEvent e, long sequenceNr)
    {
        if (State.Problem(e) is { } problem) _log.Error("journal event {0} skipped ({1} of job {2}): {3}", sequenceNr, e.GetType().Name, e.JobId, problem);
        else State = State.Apply(e);
    }

    public void Recovered(TimeSpan took)
    {
        MasterMetrics.Serve(_context.Self, () => State);
        _log.Info("job master recovered {0} jobs from the journal, {1} unfinished, in {2:0} ms", State.Jobs.Count, State.Jobs.Values.Count(j => !j.IsFinished), took.TotalMilliseconds);
        // Unfinished jobs are projected again (rows may have waited in the buffer when the last
        // master died); finished ones not yet archived go through archiving again.
        foreach (var job in State.Jobs.Values)
        {
            _projection.Tell(new CatalogProjection.Project(null, job, _waits.Current));
            if (job.IsFinished) StartArchiving(job);
        }
    }

    // ---- commands ----

    /// <summary>Handles a command; false when it is not one of the master's.</summary>
    public bool Handle(object message, IActorRef sender)
    {
        switch (message)
        {
            case SubmitJob m: OnSubmit(m, sender); break;
            case Admission m: OnAdmission(m); break;
            case GetJobStatus m: OnGetJobStatus(m, sender); break;
            case CancelJob m: OnCancelJob(m, sender); break;
            case GetWorkers: sender.Tell(new WorkerList(_workers.Describe())); break;
            case KeySampleRequest m: sender.Tell(new KeySampleChunks(m.JobId, KeySample.Of(State.Jobs.GetValueOrDefault(new JobId(m.JobId)), m.Max))); break;
            case DeleteDataset m: OnDeleteDataset(m, sender); break;
            case StoreJanitor.DatasetRemovalEnded m:
                _deleting.Remove(m.DatasetId);
                m.Requester.Tell(m.Reply);
                break;
            case RegisterWorker m: OnRegisterWorker(m); break;
            case WorkerLeaving m: OnWorkerLeaving(m); break;
            case Terminated m: LoseWorker(m.ActorRef, "was lost (its process died or its node became unreachable)"); break;
            case JobMaster.Tick: OnTick(); break;
            case RoleWatch.RoleAway m: BeginWait(m.Role, m.Reason); break;
            case RoleWatch.RoleBack m: EndWait(m.Role); break;
            case MapTaskSucceeded m: OnMapSucceeded(m, sender); break;
            case ReduceTaskSucceeded m: OnReduceSucceeded(m, sender); break;
            case TaskAttemptFailed m: OnTaskFailed(m, sender); break;
            case TaskRejected m: OnTaskRejected(m, sender); break;
            case CatalogProjection.JobProjected m: Archive(m.Job, _archiving.Done(m.Job, projected: true)); break;
            case StoreJanitor.CleanedUp m: Archive(m.Job, _archiving.Done(m.Job, cleanedUp: true)); break;
            default: return false;
        }
        return true;
    }

    private void OnSubmit(SubmitJob m, IActorRef submitter)
    {
        if (_deleting.Contains(m.DatasetId))
        {
            submitter.Tell(new JobRejected($"dataset '{m.DatasetId}' is being deleted"));
            return;
        }
        var (catalog, settings) = (_catalog, _settings);
        Task.Run(() => JobAdmission.Check(catalog, settings, m)).PipeTo(_context.Self, success: result => new Admission(m, submitter, result));
    }

    private void OnAdmission(Admission m)
    {
        var problem = m.Result.Problem ?? (_deleting.Contains(m.Job.DatasetId) ? $"dataset '{m.Job.DatasetId}' is being deleted" : null);
        if (problem is not null)
        {
            m.Submitter.Tell(new JobRejected(problem));
            return;
        }
        if (m.Result.ReusedJob is { } reused)
        {
            // Nothing changed since that incremental job: its result is the answer, and no job starts.
            _log.Info("incremental job on data {0}: nothing changed since job {1}, whose result is returned", m.Job.DatasetId, reused);
            m.Submitter.Tell(new JobAccepted(new JobId(reused), m.Result.Maps.Length, m.Job.Reducers, Reused: true));
            return;
        }
        var id = _ids.Next(Now, State.Jobs.ContainsKey);
        Record([new JobSubmitted(id.Value, m.Job.CodeId, m.Job.DatasetId, m.Job.Reducers, m.Result.Maps, Now, m.Job.SkipBadRecords ?? _settings.SkipBadRecords, m.Result.Lineage)], () =>
        {
            var reusedMaps = m.Result.Maps.Count(x => x.IsReused);
            _log.Info("job {0}: {1} map tasks{2}, {3} reduce tasks (code {4}, data {5})", id, m.Result.Maps.Length,
                m.Result.Lineage is null ? "" : $" ({reusedMaps} reused from earlier incremental jobs)", m.Job.Reducers, m.Job.CodeId, m.Job.DatasetId);
            m.Submitter.Tell(new JobAccepted(id, m.Result.Maps.Length, m.Job.Reducers));
        });
        Dispatch();
    }

    /// <summary>
    /// Answered from what is journaled (after the writes under way). A job this master no longer
    /// holds is unknown here: it ended and was archived, and the API answers from its read model.
    /// </summary>
    private void OnGetJobStatus(GetJobStatus m, IActorRef asker)
    {
        var job = State.Jobs.GetValueOrDefault(m.JobId);
        _persist([], () =>
        {
            if (job is null) asker.Tell(new UnknownJob(m.JobId));
            else _watchers.Ask(m, asker, job, Now);
        });
    }

    /// <summary>A running job that is told to stop is ended by one event: answered once it is journaled, its attempts stopped on their workers, its data cleaned up.</summary>
    private void OnCancelJob(CancelJob m, IActorRef asker)
    {
        if (State.Jobs.GetValueOrDefault(m.JobId) is not { } job)
        {
            _persist([], () => asker.Tell(new UnknownJob(m.JobId)));
            return;
        }
        if (job.IsFinished)
        {
            _persist([], () => asker.Tell(new CancelRejected(CancelRefusal(job.Id, job.Stage))));
            return;
        }
        JobState? cancelled = null; // as the event leaves it: the answer goes once it is journaled
        Record([new JobCancelled(job.Id.Value, Now)], () => asker.Tell(StatusWatchers.StatusOf(cancelled!, _waits.Current)));
        cancelled = State.Jobs[job.Id];
        Dispatch();
    }

    /// <summary>Why a job that has ended cannot be cancelled (the API says the same of an archived one).</summary>
    public static string CancelRefusal(JobId job, JobStage stage) => $"job {job} has already {stage switch
    {
        JobStage.Succeeded => "succeeded",
        JobStage.Cancelled => "been cancelled",
        _ => "failed",
    }}; only a running job can be cancelled";

    private void OnDeleteDataset(DeleteDataset m, IActorRef requester)
    {
        var reader = State.Jobs.Values.Where(j => !j.IsFinished && j.DatasetId == m.DatasetId).OrderBy(j => j.SubmittedAt).FirstOrDefault();
        if (reader is not null)
        {
            requester.Tell(new DeleteRejected($"dataset '{m.DatasetId}' is the input of job {reader.Id}, which has not finished; delete it after the job ends"));
            return;
        }
        if (!_deleting.Add(m.DatasetId))
        {
            requester.Tell(new DeleteRejected($"dataset '{m.DatasetId}' is already being deleted"));
            return;
        }
        _janitor.Tell(new StoreJanitor.RemoveDataset(m.DatasetId, requester));
    }

    private void OnRegisterWorker(RegisterWorker m)
    {
        // After a take-over, attempts a worker still runs that the journal shows as their task's
        // current attempt are adopted: they finish where they are instead of starting again.
        if (_workers.Announce(m.Worker, m.Slots, m.Running, IsCurrentAttempt, Now, _settings.LostAfter) is not var (joined, lost)) return;
        if (joined)
        {
            _context.Watch(m.Worker);
            _log.Info("worker {0} joined with {1} slots", m.Worker.Path.Address, m.Slots);
        }
        if (_workers.Unavailable(m.Worker, m.Unavailable))
            _log.Warning("worker {0}: {1}", m.Worker.Path.Address, m.Unavailable ?? "offers its slots again");
        Record(lost.Select(a => Failed(new FailureRules.Ending(FailureRules.How.NeverReceived, a, Address(m.Worker)))).ToList());
        Dispatch();
    }

    private bool IsCurrentAttempt(AttemptId a) =>
        State.Jobs.TryGetValue(a.Job, out var job) && !job.IsFinished && job.HasTask(a.Task) && job.Task(a.Task) is { IsDone: false } t && t.CurrentAttempt == a.Number;

    /// <summary>A worker going away: stopped on purpose, or its process exiting under user code (see <see cref="FailureRules"/>).</summary>
    private void OnWorkerLeaving(WorkerLeaving m)
    {
        _workers.Depart(m.Worker);
        // Still watched: its Terminated later clears the departure from the registry.
        if (_workers.Drop(m.Worker, AttemptEvent.WorkerLeaves) is not { } held) return;
        var address = Address(m.Worker);
        _log.Warning("worker {0} is leaving{1}; re-queueing its {2} tasks", address, m.Exit is { } e ? $" (exit code {e.ExitCode})" : "", held.Count);
        Record(held.SelectMany(a => m.Exit is { } exit
            ? FailedOn(Failed(new FailureRules.Ending(FailureRules.How.WorkerExited, a, address, ExitCode: exit.ExitCode, Culprit: exit.Culprit is { } culprit ? culprit == a : null)),
                exit.Culprit == a ? exit.Line : null)
            : [Failed(new FailureRules.Ending(FailureRules.How.WorkerStopping, a, address))]).ToList());
        Dispatch();
    }

    /// <summary>A worker that vanished (its node was downed or left) or went silent, without saying why: what it ran may have killed it, so each attempt counts.</summary>
    private void LoseWorker(IActorRef worker, string why)
    {
        if (_workers.Drop(worker, AttemptEvent.WorkerLost, forgetDeparture: true) is not { } held) return;
        _context.Unwatch(worker);
        _log.Warning("worker {0} {1}; re-queueing its {2} tasks", worker.Path.Address, why, held.Count);
        Record(held.Select(a => Failed(new FailureRules.Ending(FailureRules.How.WorkerLost, a, Address(worker), Why: why))).ToList());
        Dispatch();
    }

    /// <summary>Looks for silent workers and hung attempts, answers old long polls, hands out work.</summary>
    private void OnTick()
    {
        var now = Now;
        foreach (var job in _watchers.Jobs.ToList()) _watchers.Answer(State.Jobs.GetValueOrDefault(job), job, heldSince: now - _settings.LongPoll, now: now);
        foreach (var silent in _workers.SilentFor(_settings.WorkerTimeout, now))
            LoseWorker(silent, $"has not answered for {_settings.WorkerTimeout.TotalSeconds:0} s");
        var failures = new List<TaskFailed>();
        foreach (var attempt in _workers.RunningLongerThan(_settings.TaskTimeout, now))
        {
            // The worker is asked to stop it; its slot stays taken until the worker stops listing it.
            _workers.Fire(attempt.Id, AttemptEvent.TimeOut);
            var ending = new FailureRules.Ending(FailureRules.How.TimedOut, attempt.Id, Address(attempt.Worker), Timeout: _settings.TaskTimeout);
            attempt.Worker.Tell(new CancelAttempt(attempt.Id, FailureRules.Classify(ending, kvstoreAwaySinceStart: false).Error));
            failures.Add(Failed(ending));
        }
        Record(failures);
        Dispatch();
        LaunchBackups();
    }

    private void OnMapSucceeded(MapTaskSucceeded m, IActorRef sender)
    {
        if (!Settled(m.Attempt, AttemptEvent.Succeed, "a success", sender)) return;
        var nonEmpty = m.PairsPerPartition.Select((count, p) => (count, p)).Where(x => x.count > 0).Select(x => x.p).ToArray();
        Record([new MapSucceeded(m.Attempt.Job.Value, m.Attempt.Task.ToString(), m.Attempt.Name, nonEmpty, Now, m.Counters), .. Won(m.Attempt)]);
        Dispatch();
    }

    private void OnReduceSucceeded(ReduceTaskSucceeded m, IActorRef sender)
    {
        if (!Settled(m.Attempt, AttemptEvent.Succeed, "a success", sender)) return;
        Record([new ReduceSucceeded(m.Attempt.Job.Value, m.Attempt.Task.ToString(), m.Attempt.Name, BlobKeys.ReduceOutput(m.Attempt), Now, m.Counters), .. Won(m.Attempt)]);
        Dispatch();
    }

    private void OnTaskFailed(TaskAttemptFailed m, IActorRef sender)
    {
        var record = _workers.Find(m.Attempt);
        // A stopped attempt this master did not stop (from before a take-over) frees its slot at its worker's next announcement.
        if (m.Kind == FailureKind.Stopped && record is null) return;
        var stopping = record?.State == AttemptState.Stopping;
        var on = m.Kind == FailureKind.Stopped && stopping ? AttemptEvent.ConfirmStop : AttemptEvent.Fail;
        // One it stopped was accounted for when it was stopped: its slot is free now, not only at the worker's next announcement.
        if (!Settled(m.Attempt, on, "a failure", sender)) return;
        if (stopping)
        {
            Dispatch();
            return;
        }
        _log.Warning("job {0}: attempt {1} failed ({2}): {3}", m.Attempt.Job, m.Attempt.Name, m.Kind, m.Error);
        var how = m.Kind switch
        {
            FailureKind.CompileError => FailureRules.How.CompileError,
            FailureKind.Infrastructure => FailureRules.How.StorageFailed,
            FailureKind.DiskFull => FailureRules.How.DiskFull,
            _ => FailureRules.How.Threw,
        };
        var (error, lostMap) = m.CorruptBlob is { } corrupt ? Corruption(m.Attempt, corrupt, m.Error, ref how) : (m.Error, null);
        var ending = new FailureRules.Ending(how, m.Attempt, Address(sender), error);
        var verdict = Classify(ending, record?.Since ?? Now);
        Record(FailedOn(Failed(m.Attempt, verdict) with { LostMapAttempt = lostMap }, m.Line), failsJob: verdict.FailsJob ? verdict.Error : null);
        Dispatch();
    }

    /// <summary>
    /// What a corrupt blob an attempt found means: a run of the map attempt this job accepted (the
    /// map runs again: its name is returned), or one of a map task's input chunks (the job fails,
    /// naming the dataset and the chunk); anything else fails the attempt as storage trouble.
    /// </summary>
    private (string Error, string? LostMap) Corruption(AttemptId attempt, string blob, string why, ref FailureRules.How how)
    {
        if (!State.Jobs.TryGetValue(attempt.Job, out var job)) return (why, null);
        var runs = BlobKeys.MapRunsFolder(attempt.Job) + "/";
        if (attempt.Task.Kind == TaskKind.Reduce && blob.StartsWith(runs, StringComparison.Ordinal)
            && AttemptId.TryParse(attempt.Job, blob[runs.Length..blob.LastIndexOf('/')], out var map) && map.Task.Kind == TaskKind.Map && job.HasTask(map.Task))
        {
            how = FailureRules.How.RunCorrupt;
            return ($"map run {blob} is corrupt ({why}): map task {map.Task} runs again", map.Name);
        }
        if (attempt.Task.Kind == TaskKind.Map && job.HasTask(attempt.Task)
            && job.Task(attempt.Task).Input?.Chunks().FirstOrDefault(c => c.ChunkKey == blob) is { } chunk)
        {
            how = FailureRules.How.InputCorrupt;
            return ($"input chunk {blob} ({chunk.Describe()}) of dataset {job.DatasetId} is corrupt ({why})", null);
        }
        return ($"blob {blob} is corrupt ({why})", null);
    }

    private void OnTaskRejected(TaskRejected m, IActorRef sender)
    {
        if (!FromItsWorker(m.Attempt, "a refusal", sender) || _workers.Fire(m.Attempt, AttemptEvent.Refuse) is null) return;
        _workers.Full(sender); // busier than this master knew
        Record([Failed(new FailureRules.Ending(FailureRules.How.Refused, m.Attempt, Address(sender)))]);
        Dispatch();
    }

    /// <summary>
    /// Checks a worker's report and applies it to the attempt (<see cref="AttemptLifecycle"/>);
    /// whether it still counts for its task: the report comes from the worker the attempt was given
    /// to, the attempt took the event, and its job runs with the task not done. The slot it frees is
    /// handed out again in any case.
    /// </summary>
    private bool Settled(AttemptId a, AttemptEvent on, string what, IActorRef sender)
    {
        if (!FromItsWorker(a, what, sender)) return false;
        if (_workers.Find(a) is not null && _workers.Fire(a, on) is null || !Accepts(a))
        {
            Dispatch();
            return false;
        }
        return true;
    }

    /// <summary>
    /// Whether the sender of a report about this attempt is the worker it was given to: any other
    /// member could otherwise report results for attempts it never ran. An attempt handed out
    /// before a take-over, that no worker has announced to this master yet, is checked against
    /// the node address the journal recorded for the task's current attempt.
    /// </summary>
    private bool FromItsWorker(AttemptId a, string what, IActorRef sender)
    {
        if (_workers.Find(a) is { } record)
        {
            if (record.Worker.Equals(sender)) return true;
        }
        // An archived job (or none): no result counts any more, so there is nothing to guard or to report.
        else if (!State.Jobs.TryGetValue(a.Job, out var job)) return false;
        else if (job.HasTask(a.Task) && job.Task(a.Task) is var task && task.CurrentAttempt == a.Number && task.Worker == Address(sender))
            return true;
        _log.Warning("ignored {0} for attempt {1} from {2}, which it was not given to", what, a, sender.Path);
        return false;
    }

    /// <summary>Whether a result for this attempt still counts: the job runs, the task is not done yet, and the attempt was issued.</summary>
    private bool Accepts(AttemptId a) =>
        State.Jobs.TryGetValue(a.Job, out var job) && !job.IsFinished && job.HasTask(a.Task)
        && job.Task(a.Task) is { IsDone: false } task && a.Number >= 1 && a.Number <= task.Attempts;

    // ---- the kvstore's absence ----

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
        _waitEndedAt = Now;
        _log.Info("the {0} is back after {1:0} s: tasks are handed out again", what, waited.TotalSeconds);
        WaitsChanged();
        Dispatch();
    }

    /// <summary>Every running job's catalog row and held status question learn what the jobs wait for now.</summary>
    private void WaitsChanged() => _persist([], () =>
    {
        foreach (var job in State.Jobs.Values.Where(j => !j.IsFinished)) _projection.Tell(new CatalogProjection.Project(null, job, _waits.Current));
        _watchers.AnswerAll(id => State.Jobs.GetValueOrDefault(id));
    });

    // ---- handing out work ----

    /// <summary>
    /// Hands pending tasks to free slots in the order the <see cref="Scheduler"/> decides. Each
    /// hand-out is journaled (TaskStarted) before the task is sent, so attempt numbers survive a take-over.
    /// Nothing is handed out while the jobs wait for something (the kvstore): it resumes when the wait ends.
    /// </summary>
    private void Dispatch()
    {
        // A task handed out now would only wait for what the jobs wait for (or fail on it).
        if (_waits.Any) return;
        var free = _workers.FreeSlots();
        if (free.Count == 0) return;
        var now = Now;
        if (!_graceOver && now - _startedAt >= _settings.RecoveryGrace) EndGrace();
        var jobs = State.Jobs.Values.Where(j => !j.IsFinished)
            .Select(j => new Scheduler.JobQueue(j.Id, j.SubmittedAt, _workers.RunningPerJob.GetValueOrDefault(j.Id), () => NextTask(j)));
        var decisions = Scheduler.Plan(jobs, free, _settings.Scheduling);
        if (decisions.Count == 0) return;
        HandOut(decisions, now, backup: false);
    }

    /// <summary>Registers the attempts the decisions start and journals their TaskStarted; each is sent once durable, so attempt numbers survive a take-over.</summary>
    private void HandOut(List<Scheduler.Decision<IActorRef>> decisions, DateTime now, bool backup)
    {
        var plan = MapReduce.Actors.Master.Dispatch.Of(decisions, State, Address, now, backup);
        for (var i = 0; i < decisions.Count; i++) _workers.Start(AttemptId.Parse(decisions[i].Job, plan.Events[i].AttemptId), decisions[i].Worker, now);
        Record(plan.Events, () =>
        {
            foreach (var (worker, message) in plan.Messages) worker.Tell(message);
        });
    }

    /// <summary>
    /// Backup attempts for stragglers (<see cref="Speculation"/>), on the slots that pending tasks
    /// left free: journaled as TaskStarted (Backup) before they are sent, like any attempt.
    /// </summary>
    private void LaunchBackups()
    {
        if (!_settings.BackupTasks.Enabled || _waits.Any) return;
        var free = _workers.FreeSlots();
        if (free.Count == 0) return;
        var now = Now;
        var decisions = new List<Scheduler.Decision<IActorRef>>();
        foreach (var job in State.Jobs.Values)
        {
            if (job.IsFinished || !_runtimes.TryGetValue((job.Id, job.Phase), out var runtimes)) continue;
            var tasks = job.Phase == TaskKind.Map ? job.Maps.Count : job.Reduces.Count;
            // Cheap test first: while tasks wait for a slot (not all started) there is nothing to back up.
            if (runtimes.Count + _workers.RunningPerJob.GetValueOrDefault(job.Id) < tasks) continue;
            var running = _workers.RunningOf(job.Id).Where(a => a.Id.Task.Kind == job.Phase)
                .Select(a => new Speculation.Running<IActorRef>(a.Id, a.Worker, RuntimeFrom(a.Since))).ToList();
            foreach (var backup in Speculation.Plan(tasks, runtimes, running, free, _settings.BackupTasks, now))
            {
                _log.Info("job {0}: {1} straggles ({2:0.0} s; the median of {3} finished tasks is {4:0.00} s): a backup attempt goes to {5}",
                    job.Id, backup.Of.Name, (now - running.First(r => r.Attempt == backup.Of).Since).TotalSeconds, runtimes.Count,
                    Speculation.Median(runtimes).TotalSeconds, backup.On.Path.Address);
                decisions.Add(new Scheduler.Decision<IActorRef>(job.Id, backup.Of.Task, backup.On));
            }
        }
        if (decisions.Count == 0) return;
        HandOut(decisions, now, backup: true);
    }

    /// <summary>
    /// An attempt whose success is about to be journaled: its runtime is noted for <see cref="Speculation"/>,
    /// and the task's other running attempts (its backup, or the attempt it backs up) lose: each is
    /// told to stop, and its end is journaled (not a failure), after the success.
    /// </summary>
    private List<IMasterEvent> Won(AttemptId winner)
    {
        var now = Now;
        if (_workers.Find(winner) is { } won)
        {
            var key = (winner.Job, winner.Task.Kind);
            if (!_runtimes.TryGetValue(key, out var runtimes)) _runtimes[key] = runtimes = [];
            runtimes.Add(now - RuntimeFrom(won.Since));
        }
        var losers = new List<IMasterEvent>();
        var task = State.Jobs[winner.Job].Task(winner.Task);
        for (var n = 1; n <= task.Attempts; n++)
        {
            var other = new AttemptId(winner.Job, winner.Task, n);
            if (n == winner.Number || _workers.Find(other) is not { State: AttemptState.Running } loser) continue;
            _workers.Fire(other, AttemptEvent.Superseded);
            var why = $"attempt {winner.Name} of its task finished first";
            loser.Worker.Tell(new CancelAttempt(other, why));
            losers.Add(new TaskFailed(other.Job.Value, other.Task.ToString(), other.Name, $"stopped: {why}", Counted: false, now, Lost: false, Superseded: true));
        }
        return losers;
    }

    /// <summary>When an attempt's runtime starts counting: its start, or the end of the jobs' last wait (for the kvstore) if later.</summary>
    private DateTime RuntimeFrom(DateTime since) => since > _waitEndedAt ? since : _waitEndedAt;

    /// <summary>The job's next task that may start now, taken from its pending tasks.</summary>
    private TaskId? NextTask(JobState job)
    {
        var phase = job.Phase;
        var tasks = phase == TaskKind.Map ? job.Maps : job.Reduces;
        return Pending(job.Id, phase, tasks.Count).Take(i => MayStart(job, tasks[i])) is { } index ? new TaskId(phase, index) : null;
    }

    /// <summary>Not done, and not running: neither held by a worker, nor (just after a take-over) still claimable by one.</summary>
    private bool MayStart(JobState job, TaskState task) => task.Stage switch
    {
        TaskStage.Pending => true,
        TaskStage.Running => _graceOver && !(task.CurrentAttempt is { } n && _workers.IsRunning(new AttemptId(job.Id, task.Id, n))),
        _ => false,
    };

    /// <summary>The recovery grace is over: tasks the journal shows running that no worker claimed are pending again.</summary>
    private void EndGrace()
    {
        _graceOver = true;
        foreach (var job in State.Jobs.Values.Where(j => !j.IsFinished))
        {
            var tasks = job.Phase == TaskKind.Map ? job.Maps : job.Reduces;
            var pending = Pending(job.Id, job.Phase, tasks.Count);
            foreach (var task in tasks)
                if (MayStart(job, task) && task.Stage == TaskStage.Running) pending.Return(task.Id.Index);
        }
    }

    private PendingTasks Pending(JobId job, TaskKind phase, int count)
    {
        if (!_pending.TryGetValue((job, phase), out var pending)) _pending[(job, phase)] = pending = new PendingTasks(count);
        return pending;
    }

    // ---- journaling ----

    /// <summary>
    /// Applies the events in order, each checked against the state so far (one that does not fit is
    /// logged and dropped), and each followed by the job's end when it ends the job
    /// (<see cref="JobEnding"/>); then has the shell journal them. Once they are durable: each is
    /// projected into the catalog, held status questions are answered, ended jobs are archived, and
    /// <paramref name="then"/> runs.
    /// </summary>
    /// <param name="failsJob">The reason, when the failure in <paramref name="events"/> fails its job at once.</param>
    private void Record(IReadOnlyList<IMasterEvent> events, Action? then = null, string? failsJob = null)
    {
        if (events.Count == 0 && then is null) return;
        var applied = new List<(IMasterEvent Event, JobState? Job)>(events.Count);
        var queue = new Queue<IMasterEvent>(events);
        while (queue.TryDequeue(out var e))
        {
            if (State.Problem(e) is { } problem)
            {
                _log.Error("not journaled ({0} of job {1}): {2}", e.GetType().Name, e.JobId, problem);
                continue;
            }
            var job = Apply(e);
            applied.Add((e, job));
            if (job is not null && JobEnding.After(job, e, _settings.MaxTaskAttempts, Now, failsJob, _settings.MaxSkippedRecords) is { } end) queue.Enqueue(end);
        }
        var writing = Stopwatch.GetTimestamp();
        _persist(applied.Select(a => a.Event).ToList(), () =>
        {
            if (applied.Count > 0) MasterMetrics.JournalWritten(writing);
            foreach (var (e, job) in applied) Persisted(e, job);
            then?.Invoke();
        });
    }

    /// <summary>Applies one event; the job as it leaves it (null once archived).</summary>
    private JobState? Apply(IMasterEvent e)
    {
        State = State.Apply(e);
        var id = new JobId(e.JobId);
        var job = State.Jobs.GetValueOrDefault(id);
        switch (e)
        {
            case TaskFailed f when job is not null && TaskId.TryParse(f.TaskId, out var task):
                Pending(id, task.Kind, task.Kind == TaskKind.Map ? job.Maps.Count : job.Reduces.Count).Return(task.Index);
                // A map whose output was lost is handed out again before the reduces go on.
                if (f.LostMapAttempt is { } lost && AttemptId.TryParse(id, lost, out var map) && job.Task(map.Task).Stage == TaskStage.Pending)
                    Pending(id, TaskKind.Map, job.Maps.Count).Return(map.Task.Index);
                break;
            case JobFailed or JobCancelled when job is not null:
                // Its other attempts are stopped where they run, so their slots come free.
                var why = e is JobCancelled ? $"job {id} was cancelled" : $"job {id} failed";
                foreach (var attempt in _workers.RunningOf(id))
                {
                    _workers.Fire(attempt.Id, AttemptEvent.JobEnds);
                    attempt.Worker.Tell(new CancelAttempt(attempt.Id, why));
                }
                break;
        }
        if (job is null || job.IsFinished)
        {
            _pending.Remove((id, TaskKind.Map));
            _pending.Remove((id, TaskKind.Reduce));
            _runtimes.Remove((id, TaskKind.Map));
            _runtimes.Remove((id, TaskKind.Reduce));
        }
        return job;
    }

    /// <summary>What follows an event once it is durable.</summary>
    private void Persisted(IMasterEvent e, JobState? job)
    {
        MasterMetrics.Persisted(e);
        if (e is JobArchived) _workers.ForgetJob(new JobId(e.JobId));
        if (job is null) return;
        _projection.Tell(new CatalogProjection.Project(e, job, _waits.Current));
        if (e is not TaskStarted) _watchers.Answer(job, job.Id, now: Now);
        switch (e)
        {
            case JobSucceeded:
                _log.Info("job {0} succeeded", job.Id);
                StartArchiving(job);
                break;
            case JobFailed f:
                _log.Warning("job {0} failed: {1}", job.Id, f.Reason);
                StartArchiving(job);
                break;
            case JobCancelled:
                _log.Info("job {0} cancelled", job.Id);
                StartArchiving(job);
                break;
            case RecordSkipped r:
                _log.Warning("job {0}: Map failed twice on {1}; {2} skips it ({3} skipped in the job)", job.Id, r.Line.Describe(), r.TaskId, job.SkippedRecords.Count);
                break;
        }
    }

    /// <summary>A finished job leaves once its final catalog row is written and its leftovers are deleted.</summary>
    private void StartArchiving(JobState job)
    {
        _archiving.Start(job.Id);
        // What running incremental jobs read of earlier jobs' map outputs is not deleted under them.
        var inUse = job.Lineage is null ? [] : State.Jobs.Values.Where(j => !j.IsFinished).SelectMany(j => j.ReusedFolders()).Distinct().ToArray();
        _janitor.Tell(new StoreJanitor.CleanUp(job, inUse));
    }

    private void Archive(JobId id, bool ready)
    {
        if (ready) Record([new JobArchived(id.Value, Now)]);
    }

    /// <summary>The failure event of an attempt that ended so: whether it counts depends on the kvstore since the attempt started.</summary>
    private TaskFailed Failed(FailureRules.Ending ending) => Failed(ending.Attempt, Classify(ending, _workers.Find(ending.Attempt)?.Since ?? Now));

    /// <summary>What the failure of an attempt that started at <paramref name="since"/> means, given the kvstore since then and the task's other attempts that still run.</summary>
    private FailureRules.Verdict Classify(FailureRules.Ending ending, DateTime since) =>
        FailureRules.Classify(ending with { Twin = RunningTwin(ending.Attempt) }, KvStoreAwaySince(since));

    /// <summary>Another attempt of the same task that still runs (a backup pair), by name; null: none.</summary>
    private string? RunningTwin(AttemptId attempt) =>
        _workers.RunningOf(attempt.Job).FirstOrDefault(a => a.Id.Task == attempt.Task && a.Id != attempt)?.Id.Name;

    /// <summary>
    /// The events of a failure that names the line its map attempt failed on (a job that skips bad
    /// records, <see cref="BadRecords"/>): the failure, with the line as the task's suspect; or, when
    /// the task's last failure was on that line too, the failure (not counted) and the line skipped.
    /// </summary>
    private List<IMasterEvent> FailedOn(TaskFailed failed, InputLine? line)
    {
        if (line is null || !State.Jobs.TryGetValue(new JobId(failed.JobId), out var job) || !TaskId.TryParse(failed.TaskId, out var id) || !job.HasTask(id))
            return [failed];
        var task = job.Task(id);
        return BadRecords.Judge(job.SkipBadRecords, task.Suspect, line) switch
        {
            BadRecords.Verdict.Skip =>
            [
                failed with { Error = BadRecords.SkippedError(line, failed.Error), Counted = false, Line = line },
                new RecordSkipped(failed.JobId, failed.TaskId, failed.AttemptId, line, failed.Error, failed.At),
            ],
            BadRecords.Verdict.Suspect => [failed with { Line = line }],
            _ => [failed],
        };
    }

    private TaskFailed Failed(AttemptId a, FailureRules.Verdict verdict) =>
        new(a.Job.Value, a.Task.ToString(), a.Name, verdict.Error, verdict.Counted, Now, verdict.Lost);

    private static string Address(IActorRef worker) => worker.Path.Address.ToString();
}
