using Akka.Actor;
using MapReduce.Actors.Protocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// The workers this master hands tasks to, and every attempt it handed out or adopted, in one
/// place: each attempt's state changes only through <see cref="Fire"/>, by the table of
/// <see cref="AttemptLifecycle"/>, and a worker's free slots follow from the attempts that hold one.
/// Plain state, owned by the master's core; no messages, no clock of its own.
/// </summary>
/// <param name="refused">Told each impossible transition (refused: nothing changes).</param>
public sealed class WorkerRegistry(Action<string> refused)
{
    /// <summary>One attempt: the worker it was given to (or adopted from), since when, and where it stands.</summary>
    public sealed class Attempt(AttemptId id, IActorRef worker, DateTime since)
    {
        public AttemptId Id { get; } = id;
        public IActorRef Worker { get; } = worker;
        public DateTime Since { get; } = since;
        public AttemptState State { get; internal set; } = AttemptState.Running;
    }

    private sealed class Worker(int slots, DateTime seen)
    {
        public int Slots { get; set; } = slots;
        /// <summary>Attempts that hold one of its slots (running or stopping).</summary>
        public HashSet<AttemptId> Holding { get; } = [];
        /// <summary>Attempts it lists that this master holds no record of (from before a take-over): they take slots too.</summary>
        public int Unknown { get; set; }
        /// <summary>It refused a task: busier than this master knew, so no slot is free until it announces itself again.</summary>
        public bool Full { get; set; }
        public DateTime LastSeen { get; set; } = seen;
        /// <summary>Why it offers no slot, as it said in its last announcement (its scratch disk is full), or null.</summary>
        public string? Unavailable { get; set; }
        public int Free => Full ? 0 : Math.Max(0, Slots - Holding.Count - Unknown);
    }

    private readonly Dictionary<IActorRef, Worker> _workers = new();
    private readonly HashSet<IActorRef> _departed = [];
    private readonly Dictionary<AttemptId, Attempt> _attempts = new();
    private readonly Dictionary<JobId, List<Attempt>> _byJob = new();
    private readonly Dictionary<JobId, int> _runningPerJob = new();

    public int Count => _workers.Count;

    /// <summary>The attempt's record (kept until its job is archived), or null when this master never handed it out nor adopted it.</summary>
    public Attempt? Find(AttemptId attempt) => _attempts.GetValueOrDefault(attempt);

    /// <summary>Whether a worker runs the attempt for this master now.</summary>
    public bool IsRunning(AttemptId attempt) => _attempts.TryGetValue(attempt, out var a) && a.State == AttemptState.Running;

    /// <summary>Attempts running per job (jobs with none are not listed).</summary>
    public IReadOnlyDictionary<JobId, int> RunningPerJob => _runningPerJob;

    /// <summary>
    /// Records an announcement. Attempts the worker lists that <paramref name="adoptable"/> accepts
    /// (after a take-over: the task's current attempt) are adopted; attempts handed to it more than
    /// <paramref name="lostAfter"/> ago that it does not list never arrived (<see cref="AttemptEvent.NotListed"/>)
    /// and are returned; stopping attempts it no longer lists have stopped. Null when the worker has said it is leaving.
    /// </summary>
    public (bool Joined, List<AttemptId> Lost)? Announce(IActorRef workerRef, int slots, AttemptId[] reported, Func<AttemptId, bool> adoptable, DateTime now, TimeSpan lostAfter)
    {
        if (_departed.Contains(workerRef)) return null;
        var joined = !_workers.TryGetValue(workerRef, out var worker);
        if (joined) _workers[workerRef] = worker = new Worker(slots, now);
        worker!.Slots = slots;
        worker.LastSeen = now;
        worker.Full = false;
        foreach (var id in reported)
            if (!_attempts.ContainsKey(id) && adoptable(id)) Add(new Attempt(id, workerRef, now), worker);
        var listed = reported.ToHashSet();
        worker.Unknown = listed.Count(a => !worker.Holding.Contains(a));
        var lost = new List<AttemptId>();
        foreach (var id in worker.Holding.Where(a => !listed.Contains(a)).ToList())
        {
            var attempt = _attempts[id];
            if (attempt.State == AttemptState.Stopping || now - attempt.Since > lostAfter)
                if (Fire(id, AttemptEvent.NotListed) == AttemptState.Running) lost.Add(id);
        }
        return (joined, lost);
    }

    /// <summary>Records why a known worker offers no slot (null: it offers them); true when that changed.</summary>
    public bool Unavailable(IActorRef workerRef, string? why)
    {
        if (!_workers.TryGetValue(workerRef, out var worker) || worker.Unavailable == why) return false;
        worker.Unavailable = why;
        return true;
    }

    /// <summary>A worker that said it is leaving: its later announcements are ignored.</summary>
    public void Depart(IActorRef worker) => _departed.Add(worker);

    /// <summary>
    /// Forgets a worker (leaving, gone or silent): <paramref name="why"/> happens to every attempt
    /// that held one of its slots. Returns those that were running (their failures are to be
    /// journaled); null if the worker was not known.
    /// </summary>
    public List<AttemptId>? Drop(IActorRef workerRef, AttemptEvent why, bool forgetDeparture = false)
    {
        if (forgetDeparture) _departed.Remove(workerRef);
        if (!_workers.TryGetValue(workerRef, out var worker)) return null;
        var running = new List<AttemptId>();
        foreach (var id in worker.Holding.ToList())
            if (Fire(id, why) == AttemptState.Running) running.Add(id);
        _workers.Remove(workerRef);
        return running;
    }

    /// <summary>An attempt handed to a worker now (its TaskStarted is journaled).</summary>
    public void Start(AttemptId attempt, IActorRef workerRef, DateTime now) => Add(new Attempt(attempt, workerRef, now), _workers[workerRef]);

    /// <summary>
    /// Applies <paramref name="on"/> to the attempt by <see cref="AttemptLifecycle"/>. Returns the
    /// state it was in when the event moved it; null when the attempt is unknown, the event is
    /// ignored in its state, or impossible (then refused and logged: nothing changes).
    /// </summary>
    public AttemptState? Fire(AttemptId id, AttemptEvent on)
    {
        if (!_attempts.TryGetValue(id, out var attempt)) return null;
        var from = attempt.State;
        switch (AttemptLifecycle.Next(from, on, out var to))
        {
            case AttemptLifecycle.Verdict.Ignored:
                return null;
            case AttemptLifecycle.Verdict.Impossible:
                refused($"attempt {id} is {from}: {on} cannot happen to it, and is refused");
                return null;
        }
        attempt.State = to;
        if (from == AttemptState.Running) CountRunning(id.Job, -1);
        if (AttemptLifecycle.HoldsSlot(from) && !AttemptLifecycle.HoldsSlot(to) && _workers.TryGetValue(attempt.Worker, out var worker))
            worker.Holding.Remove(id);
        return from;
    }

    /// <summary>The worker refused a task: it is busier than this master knew, until its next announcement.</summary>
    public void Full(IActorRef workerRef)
    {
        if (_workers.TryGetValue(workerRef, out var worker)) worker.Full = true;
    }

    /// <summary>A job is archived: its attempts' records go (no report about them counts any more).</summary>
    public void ForgetJob(JobId job)
    {
        if (!_byJob.Remove(job, out var attempts)) return;
        foreach (var attempt in attempts)
        {
            _attempts.Remove(attempt.Id);
            if (AttemptLifecycle.HoldsSlot(attempt.State) && _workers.TryGetValue(attempt.Worker, out var worker)) worker.Holding.Remove(attempt.Id);
        }
        _runningPerJob.Remove(job);
    }

    /// <summary>The job's attempts that run now.</summary>
    public List<Attempt> RunningOf(JobId job) =>
        _byJob.TryGetValue(job, out var attempts) ? attempts.Where(a => a.State == AttemptState.Running).ToList() : [];

    public List<Attempt> RunningLongerThan(TimeSpan limit, DateTime now) =>
        _workers.Values.SelectMany(w => w.Holding).Select(id => _attempts[id]).Where(a => a.State == AttemptState.Running && now - a.Since > limit).ToList();

    public List<IActorRef> SilentFor(TimeSpan limit, DateTime now) =>
        _workers.Where(w => now - w.Value.LastSeen > limit).Select(w => w.Key).ToList();

    public Dictionary<IActorRef, int> FreeSlots() =>
        _workers.Where(w => w.Value.Free > 0).ToDictionary(w => w.Key, w => w.Value.Free);

    /// <summary>Each known worker with its slots and the attempts it runs, for the status page.</summary>
    public MasterProtocol.WorkerInfo[] Describe() => _workers
        .Select(w => new MasterProtocol.WorkerInfo(w.Key.Path.Address.ToString(), w.Value.Slots,
            [.. w.Value.Holding.Where(IsRunning).Select(a => $"{a.Job}/{a.Name}").Order(StringComparer.Ordinal)], w.Value.Unavailable))
        .OrderBy(w => w.Address, StringComparer.Ordinal)
        .ToArray();

    private void Add(Attempt attempt, Worker worker)
    {
        _attempts[attempt.Id] = attempt;
        if (!_byJob.TryGetValue(attempt.Id.Job, out var list)) _byJob[attempt.Id.Job] = list = [];
        list.Add(attempt);
        worker.Holding.Add(attempt.Id);
        CountRunning(attempt.Id.Job, +1);
    }

    private void CountRunning(JobId job, int delta)
    {
        var n = _runningPerJob.GetValueOrDefault(job) + delta;
        if (n > 0) _runningPerJob[job] = n;
        else _runningPerJob.Remove(job);
    }
}
