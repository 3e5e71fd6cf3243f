namespace MapReduce.Actors.Master;

/// <summary>Where an attempt this master knows of stands (see <see cref="AttemptLifecycle"/>).</summary>
public enum AttemptState
{
    /// <summary>Handed to its worker (TaskStarted journaled), or adopted from it after a take-over: it holds one of the worker's slots.</summary>
    Running,
    /// <summary>The master told its worker to stop it (it ran past task-timeout, its job ended, or another attempt of its task finished first): its slot stays taken until the worker says it stopped or stops listing it.</summary>
    Stopping,
    /// <summary>Its worker reported its result (whether the task took it is the job's business: the first success wins).</summary>
    Succeeded,
    /// <summary>It failed by its own code or storage, or its worker refused it.</summary>
    Failed,
    /// <summary>Its worker left (shut down, or exited), vanished or went silent, or it never reached its worker.</summary>
    Lost,
    /// <summary>It stopped after the master asked it to.</summary>
    Stopped,
}

/// <summary>What can happen to an attempt, as the master learns it.</summary>
public enum AttemptEvent
{
    /// <summary>Its worker reports a success.</summary>
    Succeed,
    /// <summary>Its worker reports a failure (its code threw, storage failed, it does not compile; or it stopped without being asked).</summary>
    Fail,
    /// <summary>Its worker reports it stopped, as the master asked.</summary>
    ConfirmStop,
    /// <summary>Its worker refused it (no free slot).</summary>
    Refuse,
    /// <summary>Its worker said it is leaving (shut down, or its process is exiting).</summary>
    WorkerLeaves,
    /// <summary>Its worker vanished (Terminated) or has not announced itself for worker-timeout.</summary>
    WorkerLost,
    /// <summary>Its worker's announcement no longer lists it (for a running attempt: after lost-after; it never arrived).</summary>
    NotListed,
    /// <summary>It ran past task-timeout: the worker is told to stop it.</summary>
    TimeOut,
    /// <summary>Its job ended (failed, cancelled): the worker is told to stop it.</summary>
    JobEnds,
    /// <summary>Another attempt of its task (a backup, or the one it backs up) finished first: the worker is told to stop it.</summary>
    Superseded,
}

/// <summary>
/// The life of one attempt, in one table as Hadoop's TaskAttemptImpl declares its own: every legal
/// transition, and for each state the events it ignores (late or duplicate news). Anything else is
/// impossible: <see cref="Attempts"/> refuses it, logs it, and changes nothing. An attempt is born
/// <see cref="AttemptState.Running"/> (handed out, or adopted after a take-over) and its record stays
/// until its job is archived, so a late report is still checked against the worker it was given to.
/// Whether a result or a failure counts for its task is decided elsewhere (<see cref="FailureRules"/>,
/// the task's own state): this table only says what the master believes the attempt is doing.
/// </summary>
public static class AttemptLifecycle
{
    /// <summary>Every legal transition.</summary>
    public static readonly IReadOnlyDictionary<(AttemptState From, AttemptEvent On), AttemptState> Transitions = new Dictionary<(AttemptState, AttemptEvent), AttemptState>
    {
        [(AttemptState.Running, AttemptEvent.Succeed)] = AttemptState.Succeeded,
        [(AttemptState.Running, AttemptEvent.Fail)] = AttemptState.Failed,
        [(AttemptState.Running, AttemptEvent.Refuse)] = AttemptState.Failed,
        [(AttemptState.Running, AttemptEvent.WorkerLeaves)] = AttemptState.Lost,
        [(AttemptState.Running, AttemptEvent.WorkerLost)] = AttemptState.Lost,
        [(AttemptState.Running, AttemptEvent.NotListed)] = AttemptState.Lost,
        [(AttemptState.Running, AttemptEvent.TimeOut)] = AttemptState.Stopping,
        [(AttemptState.Running, AttemptEvent.JobEnds)] = AttemptState.Stopping,
        [(AttemptState.Running, AttemptEvent.Superseded)] = AttemptState.Stopping,

        // A timed-out attempt that finishes after all still wrote a whole output: it may still count.
        [(AttemptState.Stopping, AttemptEvent.Succeed)] = AttemptState.Succeeded,
        [(AttemptState.Stopping, AttemptEvent.ConfirmStop)] = AttemptState.Stopped,
        // Its end was accounted for when it was stopped: a failure it reports now only ends it.
        [(AttemptState.Stopping, AttemptEvent.Fail)] = AttemptState.Stopped,
        [(AttemptState.Stopping, AttemptEvent.NotListed)] = AttemptState.Stopped,
        [(AttemptState.Stopping, AttemptEvent.WorkerLeaves)] = AttemptState.Stopped,
        [(AttemptState.Stopping, AttemptEvent.WorkerLost)] = AttemptState.Stopped,

        // A worker presumed lost (leaving, unreachable, or slow to receive it) that reports a success after all: its output is whole.
        [(AttemptState.Lost, AttemptEvent.Succeed)] = AttemptState.Succeeded,
    };

    /// <summary>The events each state ignores: news that comes late, twice, or about what the master already gave up on.</summary>
    public static readonly IReadOnlyDictionary<AttemptState, AttemptEvent[]> Ignored = new Dictionary<AttemptState, AttemptEvent[]>
    {
        [AttemptState.Running] = [],
        [AttemptState.Stopping] = [AttemptEvent.TimeOut, AttemptEvent.JobEnds, AttemptEvent.Refuse, AttemptEvent.Superseded],
        [AttemptState.Succeeded] = [AttemptEvent.Succeed, AttemptEvent.ConfirmStop, AttemptEvent.NotListed, AttemptEvent.WorkerLeaves, AttemptEvent.WorkerLost, AttemptEvent.JobEnds, AttemptEvent.Superseded],
        [AttemptState.Failed] = [AttemptEvent.Fail, AttemptEvent.ConfirmStop, AttemptEvent.Refuse, AttemptEvent.NotListed, AttemptEvent.WorkerLeaves, AttemptEvent.WorkerLost, AttemptEvent.JobEnds, AttemptEvent.Superseded],
        [AttemptState.Lost] = [AttemptEvent.Fail, AttemptEvent.ConfirmStop, AttemptEvent.Refuse, AttemptEvent.NotListed, AttemptEvent.WorkerLeaves, AttemptEvent.WorkerLost, AttemptEvent.JobEnds, AttemptEvent.Superseded],
        [AttemptState.Stopped] = [AttemptEvent.Succeed, AttemptEvent.Fail, AttemptEvent.ConfirmStop, AttemptEvent.NotListed, AttemptEvent.WorkerLeaves, AttemptEvent.WorkerLost, AttemptEvent.JobEnds, AttemptEvent.Superseded],
    };

    public enum Verdict { Moves, Ignored, Impossible }

    /// <summary>What <paramref name="on"/> does to an attempt in state <paramref name="from"/>: moves it (to <paramref name="to"/>), is ignored, or is impossible.</summary>
    public static Verdict Next(AttemptState from, AttemptEvent on, out AttemptState to)
    {
        if (Transitions.TryGetValue((from, on), out to)) return Verdict.Moves;
        to = from;
        return Ignored[from].Contains(on) ? Verdict.Ignored : Verdict.Impossible;
    }

    /// <summary>Whether an attempt in this state takes one of its worker's slots.</summary>
    public static bool HoldsSlot(AttemptState state) => state is AttemptState.Running or AttemptState.Stopping;
}
