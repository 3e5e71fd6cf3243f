using Akka.Actor;
using Akka.Event;
using MapReduce.Actors.Metrics;
using MapReduce.Actors.Protocol;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Actors.Worker;

/// <summary>
/// One per worker node. Announces its slots to the master (through the singleton proxy, so it
/// follows the master across failovers), runs at most that many tasks at once and reports each
/// result to the master. A task beyond its slots is refused, never queued. An attempt it is told
/// to stop gets <c>cancel-grace</c> to return; user code that never does (an endless loop) cannot
/// be stopped inside the process, so the worker then exits and its supervisor starts it again.
/// </summary>
public sealed class WorkerActor : ReceiveActor, IWithTimers
{
    /// <summary>The exit code of a worker that exits because an attempt would not stop.</summary>
    public const int StuckAttemptExitCode = 75;

    private sealed class Announce
    {
        public static readonly Announce Instance = new();
    }

    private sealed record Finished(AttemptId Attempt, object Result);

    private sealed record StopOverdue(AttemptId Attempt);

    /// <summary>Sent by coordinated shutdown: stop announcing, refuse new tasks, tell the master (and why, when the process is exiting).</summary>
    private sealed class Leave
    {
        public static readonly Leave Instance = new();
    }

    private readonly IActorRef _master;
    private readonly int _slots;
    private readonly TimeSpan _cancelGrace;
    private readonly TimeSpan _announceEvery;
    private readonly TaskExecutor _executor;
    private readonly ScratchSpace? _scratch;
    private readonly TimeProvider _time;
    /// <summary>Why this worker offers no slot (its scratch disk is full), or null; said in each announcement.</summary>
    private string? _unavailable;
    private readonly Dictionary<AttemptId, CancellationTokenSource> _running = new();
    private bool _leaving;
    private readonly WorkerMetrics _metrics;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="announceEvery">mapreduce.announce-interval: the master's worker-timeout, lost-after and recovery-grace count on it.</param>
    /// <param name="scratch">Its scratch folder's free space (null: not watched).</param>
    /// <param name="time">The clock of the scratch disk's pause (null: the system's).</param>
    public WorkerActor(IActorRef masterProxy, int slots, TimeSpan cancelGrace, TimeSpan announceEvery, TaskExecutor executor, ScratchSpace? scratch = null, TimeProvider? time = null)
    {
        _scratch = scratch;
        _time = time ?? TimeProvider.System;
        _announceEvery = announceEvery;
        _master = masterProxy;
        _slots = slots;
        _cancelGrace = cancelGrace;
        _executor = executor;
        _metrics = new WorkerMetrics(slots);

        Receive<Announce>(_ => AnnounceNow());
        Receive<Leave>(_ =>
        {
            _leaving = true;
            _master.Tell(new WorkerLeaving(Self, ProcessExitWatch.Exit));
            Sender.Tell(Akka.Done.Instance);
        });
        Receive<RunMapTask>(task => Start(task.Attempt, stop => _executor.RunMapAsync(task, stop)));
        Receive<RunReduceTask>(task => Start(task.Attempt, stop => _executor.RunReduceAsync(task, stop)));
        Receive<CancelAttempt>(m =>
        {
            if (!_running.TryGetValue(m.Attempt, out var cts)) return;
            _log.Warning("stopping {0}: {1}", m.Attempt, m.Reason);
            cts.Cancel();
            Timers.StartSingleTimer(m.Attempt, new StopOverdue(m.Attempt), _cancelGrace);
        });
        Receive<StopOverdue>(m =>
        {
            if (!_running.ContainsKey(m.Attempt)) return;
            _log.Error("{0} did not stop within {1} s (its user code does not return); this worker exits with code {2} to free the slot",
                m.Attempt, _cancelGrace.TotalSeconds, StuckAttemptExitCode);
            ProcessExitWatch.ExitingFor(m.Attempt, StuckAttemptExitCode);
            // Not on this thread: exiting runs coordinated shutdown, which asks this actor to leave.
            Task.Run(() => Environment.Exit(StuckAttemptExitCode));
        });
        Receive<Finished>(f =>
        {
            if (_running.Remove(f.Attempt, out var cts)) cts.Dispose();
            Timers.Cancel(f.Attempt);
            _metrics.Ended(f.Attempt, f.Result);
            _master.Tell(f.Result);
            // Said right after the failure: the master must not hand the failed task straight back here
            // (one it sent meanwhile is refused: the worker is unavailable from now on).
            if (f.Result is TaskAttemptFailed { Kind: FailureKind.DiskFull })
            {
                _scratch?.Filled(_time.GetUtcNow().UtcDateTime);
                AnnounceNow();
            }
        });
    }

    public static Props Props(IActorRef masterProxy, int slots, TimeSpan cancelGrace, TimeSpan announceEvery, TaskExecutor executor, ScratchSpace? scratch = null,
        TimeProvider? time = null) =>
        Akka.Actor.Props.Create(() => new WorkerActor(masterProxy, slots, cancelGrace, announceEvery, executor, scratch, time));

    /// <summary>Tells the master its free slots (none while its scratch disk is full, saying so) and the attempts it runs.</summary>
    private void AnnounceNow()
    {
        if (_leaving) return;
        CheckScratch();
        _master.Tell(new RegisterWorker(Self, _unavailable is null ? _slots : 0, [.. _running.Keys], _unavailable));
    }

    /// <summary>Whether the scratch disk has room again, or no longer has; logged when that changes.</summary>
    private void CheckScratch()
    {
        var now = _scratch?.Shortage(_time.GetUtcNow().UtcDateTime);
        if (now is not null && _unavailable is null) _log.Warning("{0}", now);
        else if (now is null && _unavailable is not null) _log.Info("scratch disk has room again: offering {0} slots", _slots);
        _unavailable = now;
    }

    protected override void PreStart()
    {
        // On SIGTERM the master re-queues this worker's tasks at once instead of waiting for the failure detector.
        var self = Self;
        CoordinatedShutdown.Get(Context.System).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "worker-leaving",
            // Inside coordinated shutdown's own phase timeout: a master that does not answer is found by the failure detector instead.
            () => self.Ask<Akka.Done>(Leave.Instance, TimeSpan.FromSeconds(2)));
        Self.Tell(Announce.Instance);
        Timers.StartPeriodicTimer("announce", Announce.Instance, _announceEvery);
    }

    protected override void PostStop() => _metrics.Stopped();

    private void Start(AttemptId attempt, Func<CancellationToken, Task<object>> run)
    {
        if (_running.ContainsKey(attempt)) return;
        if (_unavailable is not null)
        {
            _log.Warning("refusing {0}: {1}", attempt, _unavailable);
            _master.Tell(new TaskRejected(attempt));
            return;
        }
        if (_leaving || _running.Count >= _slots)
        {
            _log.Warning("refusing {0}: all {1} slots busy", attempt, _slots);
            _master.Tell(new TaskRejected(attempt));
            return;
        }
        var cts = new CancellationTokenSource();
        _running[attempt] = cts;
        _metrics.Started(attempt);
        var self = Self;
        Task.Run(() => run(cts.Token)).ContinueWith(t => new Finished(attempt, t.IsCompletedSuccessfully
                ? t.Result
                : new TaskAttemptFailed(attempt, FailureKind.Infrastructure, t.Exception?.GetBaseException().Message ?? "cancelled")),
            TaskScheduler.Default).PipeTo(self);
    }
}
