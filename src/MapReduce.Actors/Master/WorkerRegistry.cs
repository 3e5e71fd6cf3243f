using Akka.Actor;

namespace MapReduce.Actors.Master;

/// <summary>
/// What the master knows of its workers: their slots, which attempts it handed each, and when each
/// last announced itself. Plain state, owned by the master actor; no messages, no clock of its own.
/// </summary>
public sealed class WorkerRegistry
{
    /// <summary><see cref="Foreign"/> counts attempts the worker runs that this master did not hand it (from before a take-over, or stopped here): they hold slots too.</summary>
    private sealed class Worker(int slots, DateTime seen)
    {
        public int Slots { get; set; } = slots;
        public HashSet<AttemptId> Running { get; } = [];
        public int Foreign { get; set; }
        public DateTime LastSeen { get; set; } = seen;
        public int Free => Slots - Running.Count - Foreign;
    }

    public sealed record Assignment(IActorRef Worker, DateTime Since);

    private readonly Dictionary<IActorRef, Worker> _workers = new();
    private readonly Dictionary<AttemptId, Assignment> _assignments = new();
    private readonly HashSet<IActorRef> _departed = [];
    /// <summary>Which worker each attempt of a running job was given to (or adopted from), kept after its slot is freed: only that worker may report its result.</summary>
    private readonly Dictionary<AttemptId, IActorRef> _givenTo = new();

    public int Count => _workers.Count;

    public bool Holds(AttemptId attempt) => _assignments.ContainsKey(attempt);

    public Assignment? AssignmentOf(AttemptId attempt) => _assignments.GetValueOrDefault(attempt);

    /// <summary>
    /// Records an announcement. Attempts the worker lists that <paramref name="adoptable"/> accepts
    /// (after a take-over: the task's current attempt) become its assignments; attempts sent to it
    /// more than <paramref name="lostAfter"/> ago that it does not list were lost on the way and are
    /// returned (already released). Null when the worker has said it is leaving.
    /// </summary>
    public (bool Joined, List<AttemptId> Lost)? Announce(IActorRef workerRef, int slots, AttemptId[] reported, Func<AttemptId, bool> adoptable, DateTime now, TimeSpan lostAfter)
    {
        if (_departed.Contains(workerRef)) return null;
        var joined = !_workers.TryGetValue(workerRef, out var worker);
        if (joined) _workers[workerRef] = worker = new Worker(slots, now);
        worker!.Slots = slots;
        worker.LastSeen = now;
        foreach (var attempt in reported)
        {
            if (_assignments.ContainsKey(attempt) || !adoptable(attempt)) continue;
            _assignments[attempt] = new Assignment(workerRef, now);
            _givenTo[attempt] = workerRef;
            worker.Running.Add(attempt);
        }
        var listed = reported.ToHashSet();
        worker.Foreign = listed.Count(a => !worker.Running.Contains(a));
        var lost = worker.Running.Where(a => !listed.Contains(a) && now - _assignments[a].Since > lostAfter).ToList();
        foreach (var attempt in lost) Release(attempt);
        return (joined, lost);
    }

    /// <summary>A worker that said it is leaving: its later announcements are ignored.</summary>
    public void Depart(IActorRef worker) => _departed.Add(worker);

    /// <summary>Forgets a worker (gone, leaving or silent) and returns the attempts it held, released; null if it was not known.</summary>
    public List<AttemptId>? Drop(IActorRef workerRef, bool forgetDeparture = false)
    {
        if (forgetDeparture) _departed.Remove(workerRef);
        if (!_workers.Remove(workerRef, out var worker)) return null;
        var held = worker.Running.ToList();
        foreach (var attempt in held) _assignments.Remove(attempt);
        return held;
    }

    public void Assign(AttemptId attempt, IActorRef workerRef, DateTime now)
    {
        _assignments[attempt] = new Assignment(workerRef, now);
        _givenTo[attempt] = workerRef;
        _workers[workerRef].Running.Add(attempt);
    }

    /// <summary>The worker this master gave the attempt to, or that announced it and had it adopted; null when this master never handed it out (from before a take-over).</summary>
    public IActorRef? GivenTo(AttemptId attempt) => _givenTo.GetValueOrDefault(attempt);

    /// <summary>A job is archived: whom its attempts were given to no longer matters.</summary>
    public void ForgetJob(JobId job)
    {
        foreach (var attempt in _givenTo.Keys.Where(a => a.Job == job).ToList()) _givenTo.Remove(attempt);
    }

    /// <summary>Frees the slot an attempt held; null when the attempt was not held (already released).</summary>
    public Assignment? Release(AttemptId attempt)
    {
        if (!_assignments.Remove(attempt, out var assignment)) return null;
        if (_workers.TryGetValue(assignment.Worker, out var worker)) worker.Running.Remove(attempt);
        return assignment;
    }

    /// <summary>The worker still runs an attempt this master let go (stopped, or it refused a task): its slot stays taken until the worker stops listing it.</summary>
    public void StillBusy(IActorRef workerRef, bool allSlots = false)
    {
        if (!_workers.TryGetValue(workerRef, out var worker)) return;
        worker.Foreign = allSlots ? worker.Slots : worker.Foreign + 1;
    }

    /// <summary>The worker says a stopped attempt has ended: its slot is free now, not only at the worker's next announcement.</summary>
    public void StoppedOn(IActorRef workerRef)
    {
        if (_workers.TryGetValue(workerRef, out var worker) && worker.Foreign > 0) worker.Foreign--;
    }

    public List<(AttemptId Attempt, Assignment Assignment)> RunningLongerThan(TimeSpan limit, DateTime now) =>
        _assignments.Where(a => now - a.Value.Since > limit).Select(a => (a.Key, a.Value)).ToList();

    public List<IActorRef> SilentFor(TimeSpan limit, DateTime now) =>
        _workers.Where(w => now - w.Value.LastSeen > limit).Select(w => w.Key).ToList();

    public Dictionary<IActorRef, int> FreeSlots() =>
        _workers.Where(w => w.Value.Free > 0).ToDictionary(w => w.Key, w => w.Value.Free);

    public Dictionary<JobId, int> RunningPerJob() =>
        _assignments.Keys.GroupBy(a => a.Job).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>Each known worker with its slots and the attempts it runs, for the status page.</summary>
    public MasterProtocol.WorkerInfo[] Describe() => _workers
        .Select(w => new MasterProtocol.WorkerInfo(w.Key.Path.Address.ToString(), w.Value.Slots, [.. w.Value.Running.Select(a => $"{a.Job}/{a.Name}").Order(StringComparer.Ordinal)]))
        .OrderBy(w => w.Address, StringComparer.Ordinal)
        .ToArray();

    public List<AttemptId> AttemptsOf(JobId job) => _assignments.Keys.Where(a => a.Job == job).ToList();
}
