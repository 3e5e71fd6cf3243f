using Akka.Actor;
using Akka.Event;
using static MapReduce.Actors.Master.MasterProtocol;
using static MapReduce.Actors.Worker.WorkerProtocol;

namespace MapReduce.Actors.Worker;

/// <summary>
/// One per worker node. Announces its slots to the master (through the singleton proxy, so it
/// follows the master across failovers), runs at most that many tasks at once and reports each
/// result to the master. A task beyond its slots is refused, never queued.
/// </summary>
public sealed class WorkerActor : ReceiveActor, IWithTimers
{
    private sealed class Announce
    {
        public static readonly Announce Instance = new();
    }

    private sealed record Finished(string AttemptId, object Result);

    /// <summary>Sent by coordinated shutdown: stop announcing, refuse new tasks, tell the master.</summary>
    private sealed class Leave
    {
        public static readonly Leave Instance = new();
    }

    private readonly IActorRef _master;
    private readonly int _slots;
    private readonly TaskExecutor _executor;
    private readonly Dictionary<string, RunningAttempt> _running = new();
    private bool _leaving;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ITimerScheduler Timers { get; set; } = null!;

    public WorkerActor(IActorRef masterProxy, int slots, TaskExecutor executor)
    {
        _master = masterProxy;
        _slots = slots;
        _executor = executor;

        Receive<Announce>(_ =>
        {
            if (!_leaving) _master.Tell(new RegisterWorker(Self, _slots, [.. _running.Values]));
        });
        Receive<Leave>(_ =>
        {
            _leaving = true;
            _master.Tell(new WorkerLeaving(Self));
            Sender.Tell(Akka.Done.Instance);
        });
        Receive<RunMapTask>(task => Start(task.ExecId, task.TaskId, task.AttemptId, () => _executor.RunMapAsync(task)));
        Receive<RunReduceTask>(task => Start(task.ExecId, task.TaskId, task.AttemptId, () => _executor.RunReduceAsync(task)));
        Receive<Finished>(f =>
        {
            _running.Remove(f.AttemptId);
            _master.Tell(f.Result);
        });
    }

    public static Props Props(IActorRef masterProxy, int slots, TaskExecutor executor) =>
        Akka.Actor.Props.Create(() => new WorkerActor(masterProxy, slots, executor));

    protected override void PreStart()
    {
        // On SIGTERM the master re-queues this worker's tasks at once instead of waiting for the failure detector.
        var self = Self;
        CoordinatedShutdown.Get(Context.System).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "worker-leaving",
            () => self.Ask<Akka.Done>(Leave.Instance, TimeSpan.FromSeconds(2)));
        Self.Tell(Announce.Instance);
        Timers.StartPeriodicTimer("announce", Announce.Instance, TimeSpan.FromSeconds(2));
    }

    private void Start(string execId, string taskId, string attemptId, Func<Task<object>> run)
    {
        if (_running.ContainsKey(attemptId)) return;
        if (_leaving || _running.Count >= _slots)
        {
            _log.Warning("refusing {0}: all {1} slots busy", attemptId, _slots);
            _master.Tell(new TaskRejected(execId, taskId, attemptId));
            return;
        }
        _running[attemptId] = new RunningAttempt(execId, taskId, attemptId);
        var self = Self;
        Task.Run(run).ContinueWith(t => new Finished(attemptId, t.IsCompletedSuccessfully
                ? t.Result
                : new TaskAttemptFailed(execId, taskId, attemptId, FailureKind.Infrastructure, t.Exception?.GetBaseException().Message ?? "cancelled")),
            TaskScheduler.Default).PipeTo(self);
    }
}
