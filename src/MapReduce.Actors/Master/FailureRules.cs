using MapReduce.Actors.Protocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// What an attempt's failure means for its task: the table "what counts" of docs/master.md, as one
/// pure function (each row of that table is a row of FailureRulesTests). A counted failure uses up
/// one of the task's max-task-attempts; an uncounted one runs the task again for free.
/// </summary>
public static class FailureRules
{
    public enum How
    {
        /// <summary>Map, Reduce or Combine threw (or the attempt stopped without being asked).</summary>
        Threw,
        /// <summary>Its worker's process exited under user code (<see cref="Ending.Culprit"/>: whether this attempt's code called the exit; null: unknown).</summary>
        WorkerExited,
        /// <summary>Its worker vanished without a word (<see cref="Ending.Why"/> says how).</summary>
        WorkerLost,
        /// <summary>It ran past task-timeout.</summary>
        TimedOut,
        /// <summary>Its worker was stopped on purpose (SIGTERM).</summary>
        WorkerStopping,
        /// <summary>Its worker refused it (no free slot).</summary>
        Refused,
        /// <summary>Its worker never received it.</summary>
        NeverReceived,
        /// <summary>It failed on storage or the network (Infrastructure).</summary>
        StorageFailed,
        /// <summary>task.csx does not compile.</summary>
        CompileError,
        /// <summary>Its worker's scratch disk had no space left (DiskFull).</summary>
        DiskFull,
        /// <summary>A reduce attempt found a map run corrupt (checksum mismatch): the map runs again.</summary>
        RunCorrupt,
        /// <summary>A map attempt found one of its input chunks corrupt (checksum mismatch).</summary>
        InputCorrupt,
    }

    /// <summary>How an attempt ended: <see cref="Error"/> as reported (Threw, StorageFailed, CompileError), the worker's address, and what the row needs.</summary>
    /// <param name="Twin">Another attempt of the same task that still runs (a backup, or the attempt it backs up), by name; null: none.</param>
    public sealed record Ending(How How, AttemptId Attempt, string Worker, string Error = "", int ExitCode = 0, bool? Culprit = null, string Why = "", TimeSpan Timeout = default,
        string? Twin = null);

    /// <param name="Lost">The attempt did not end by its own code (worker gone, timed out, never arrived).</param>
    /// <param name="FailsJob">The job fails at once, with <see cref="Error"/> as its reason.</param>
    public sealed record Verdict(string Error, bool Counted, bool Lost = false, bool FailsJob = false);

    public const string NotCounted = " (not counted: the kvstore was away)";

    public const string NotCountedDiskFull = " (not counted: the worker's scratch disk is full)";

    /// <param name="kvstoreAwaySinceStart">Whether the kvstore was away at some time since the attempt started, as this master saw the cluster.</param>
    /// <remarks>
    /// Attempts that run side by side (a backup and the attempt it backs up) are one try: while its
    /// twin runs, a failure that would count does not, and the twin's outcome decides. Two copies of
    /// one try failing together must not use up two of the task's attempts (under load, a backup of a
    /// slow first attempt would otherwise leave a job that skips bad records too few to find the line).
    /// </remarks>
    public static Verdict Classify(Ending e, bool kvstoreAwaySinceStart) => Alone(e, kvstoreAwaySinceStart) switch
    {
        { Counted: true } v when e.Twin is { } twin => v with { Error = $"{v.Error} (not counted: attempt {twin} of the task still runs)", Counted = false },
        var v => v,
    };

    private static Verdict Alone(Ending e, bool kvstoreAwaySinceStart) => e.How switch
    {
        How.Threw => new(e.Error, Counted: true),
        // Only the attempt whose code called the exit counts; when that is unknown (exit handlers run
        // on the finalizer thread), every attempt the worker held counts if the exit code was not 0.
        How.WorkerExited when e.Culprit ?? e.ExitCode != 0 => new($"worker process exited with code {e.ExitCode} while running {e.Attempt.Task.Describe()}", Counted: true),
        How.WorkerExited or How.WorkerStopping => new($"worker {e.Worker} is shutting down", Counted: false, Lost: true),
        How.WorkerLost => new($"worker {e.Worker} {e.Why} while running {e.Attempt.Task.Describe()}", Counted: true, Lost: true),
        // Storage trouble while the kvstore was away is the kvstore's absence, not the task's fault;
        // an attempt that waited for it is not hung: both run again once it is back.
        How.TimedOut when kvstoreAwaySinceStart => new(TimedOut(e) + NotCounted, Counted: false, Lost: true),
        How.TimedOut => new(TimedOut(e), Counted: true, Lost: true),
        How.Refused => new("worker had no free slot", Counted: false, Lost: true),
        How.NeverReceived => new($"worker {e.Worker} never received it", Counted: false, Lost: true),
        How.StorageFailed when kvstoreAwaySinceStart => new(e.Error + NotCounted, Counted: false),
        How.StorageFailed => new(e.Error, Counted: true),
        How.CompileError => new(e.Error, Counted: false, FailsJob: true),
        // A full scratch disk is the worker's trouble: the task runs again (the worker offers no slot until it has space).
        How.DiskFull => new(e.Error + NotCountedDiskFull, Counted: false),
        // Neither the reduce's fault nor curable by running it again before the map has.
        How.RunCorrupt => new(e.Error, Counted: false),
        // The stored input is damaged: every attempt would read the same bytes.
        How.InputCorrupt => new(e.Error, Counted: false, FailsJob: true),
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.How, null),
    };

    private static string TimedOut(Ending e) => $"timed out after {e.Timeout.TotalSeconds:0} s on {e.Worker}";
}
