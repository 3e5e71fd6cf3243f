using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using MapReduce.Actors.Metrics;
using MapReduce.Storage.Catalog;

namespace MapReduce.Actors.Master;

/// <summary>
/// The job master, a cluster singleton: the persistent shell around <see cref="MasterCore"/>, as
/// Akka's PersistentShardCoordinator is around its ShardCoordinator. It only recovers (the latest
/// snapshot, then the events after it), snapshots, persists, and hands every command to the core
/// with a persist function. Events are journaled asynchronously: those of commands that arrive
/// while a write is under way (or within mapreduce.master.journal-batch-delay) go out together in
/// the next one, so the journal is written in batches under load instead of once per event.
/// </summary>
public sealed class JobMaster : ReceivePersistentActor, IWithTimers
{
    public const string PersistenceIdValue = "job-master";

    /// <summary>Sent by the master's timer (and by tests driving a fake clock): look for silent workers and hung attempts, answer old long polls, hand out work.</summary>
    public sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    /// <summary>The held events go to the journal now (one write for all of them).</summary>
    private sealed class FlushJournal
    {
        public static readonly FlushJournal Instance = new();
    }

    private readonly MasterCore _core;
    private readonly MasterSettings _settings;
    private readonly SnapshotSchedule _snapshots;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    /// <summary>When recovery began, in real time: the log says how long the replay took.</summary>
    private readonly long _recoveryStarted = Stopwatch.GetTimestamp();
    /// <summary>Events applied by the core and not yet durable: a snapshot is taken only when there are none, so it matches the journal.</summary>
    private int _unpersisted;
    /// <summary>Persist calls held for <see cref="MasterSettings.JournalBatchDelay"/>, in order: journaled together at <see cref="FlushJournal"/>.</summary>
    private readonly List<(IReadOnlyList<IMasterEvent> Events, Action Then)> _held = [];

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
        _settings = settings;
        _snapshots = new SnapshotSchedule(settings.SnapshotAfter);
        var projection = Context.ActorOf(CatalogProjection.Props(catalog, clock), "catalog-projection");
        var janitor = Context.ActorOf(StoreJanitor.Props(findKvStore, settings.KvStoreTimeout, settings.KvStoreBackoff), "store-janitor");
        if (kvstoreWatch is not null) Context.ActorOf(kvstoreWatch, "kvstore-watch");
        _core = new MasterCore(Context, catalog, settings, clock, _log, projection, janitor, Persist);

        Recover<SnapshotOffer>(o =>
        {
            _core.Restore((MasterSnapshot)o.Snapshot);
            _snapshots.Recovered(o.Metadata.SequenceNr);
        });
        Recover<IMasterEvent>(e => _core.Replay(e, LastSequenceNr));
        Recover<RecoveryCompleted>(_ =>
        {
            _core.Recovered(Stopwatch.GetElapsedTime(_recoveryStarted));
            Timers.StartPeriodicTimer("tick", Tick.Instance, _settings.TickInterval);
        });

        Command<SaveSnapshotSuccess>(m =>
        {
            _snapshots.Saved(m.Metadata.SequenceNr);
            _log.Info("snapshot at event {0} ({1} jobs held); older events and snapshots are deleted", m.Metadata.SequenceNr, _core.State.Jobs.Count);
            DeleteMessages(m.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(m.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(m =>
        {
            _snapshots.Failed();
            _log.Warning("snapshot at event {0} failed: {1}", m.Metadata.SequenceNr, m.Cause.Message);
        });
        Command<FlushJournal>(_ => Flush());
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteMessagesFailure>(m => _log.Warning("old journal events were not deleted: {0}", m.Cause.Message));
        Command<DeleteSnapshotsFailure>(m => _log.Warning("old snapshots were not deleted: {0}", m.Cause.Message));
        CommandAny(m =>
        {
            if (!_core.Handle(m, Sender)) Unhandled(m);
        });
    }

    public static Props Props(CatalogStore catalog, MasterSettings settings, Func<TimeSpan, Task<IActorRef>> findKvStore, TimeProvider? clock = null,
        Props? kvstoreWatch = null) =>
        Akka.Actor.Props.Create(() => new JobMaster(catalog, settings, findKvStore, clock ?? TimeProvider.System, kvstoreWatch));

    /// <summary>
    /// The core's persist function: journals the events (applied already) in the background, then
    /// runs <paramref name="then"/>; snapshots when due. With a journal batch delay the call is held
    /// and replayed in order, with every other held call, when the delay is over: Akka writes the
    /// persist calls of one command together, so several tasks' results cost one journal write.
    /// </summary>
    private void Persist(IReadOnlyList<IMasterEvent> events, Action then)
    {
        _unpersisted += events.Count;
        // Nothing held: an action without events only waits for the writes already under way.
        if (_settings.JournalBatchDelay <= TimeSpan.Zero || (events.Count == 0 && _held.Count == 0))
        {
            PersistNow(events, then);
            return;
        }
        _held.Add((events, then));
        if (!Timers.IsTimerActive(FlushTimer)) Timers.StartSingleTimer(FlushTimer, FlushJournal.Instance, _settings.JournalBatchDelay);
    }

    private const string FlushTimer = "journal-flush";

    private void Flush()
    {
        var held = _held.ToList();
        _held.Clear();
        foreach (var (events, then) in held) PersistNow(events, then);
    }

    private void PersistNow(IReadOnlyList<IMasterEvent> events, Action then)
    {
        if (events.Count == 0)
        {
            DeferAsync(then, run => run());
            return;
        }
        var left = events.Count;
        PersistAllAsync(events, _ =>
        {
            _unpersisted--;
            if (--left > 0) return;
            then();
            if (_unpersisted == 0 && _snapshots.Due(LastSequenceNr)) SaveSnapshot(_core.State.ToSnapshot());
        });
    }

    protected override void PostStop()
    {
        MasterMetrics.Stopped(Self);
        base.PostStop();
    }

    /// <summary>The core applied the event already: a state the journal does not hold must not go on. A new master recovers from the journal.</summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        base.OnPersistRejected(cause, @event, sequenceNr);
        Context.Stop(Self);
    }
}
