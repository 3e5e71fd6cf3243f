using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.KvStore;
using MapReduce.Actors.Master;
using MapReduce.Storage.Catalog;
using MapReduce.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using static MapReduce.Actors.Master.MasterProtocol;
using static MapReduce.Actors.Worker.WorkerProtocol;

namespace MapReduce.Tests.Master;

/// <summary>
/// The master's journal over time: snapshots bound what a take-over replays, archived jobs leave
/// the state (and are answered from the catalog), and a journal written by an older build is read.
/// </summary>
public sealed class MasterHistoryTests(ITestOutputHelper output) : MasterTestKit
{
    [Fact]
    public void Snapshots_are_taken_and_used_and_older_events_are_deleted()
    {
        var settings = Defaults with { SnapshotAfter = 20 };
        AnswerRemoveFolders(KvStore);
        var master = NewMaster(settings);
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, 10, []));

        var finished = new List<(JobId Job, string[] Parts)>();
        for (var i = 0; i < 4; i++)
        {
            var job = Submit(master);
            SucceedMaps(master, worker, [1, 1]);
            for (var r = 0; r < 2; r++) master.Tell(new ReduceTaskSucceeded(worker.ExpectMsg<RunReduceTask>().Attempt, 1), worker.Ref);
            var status = StatusOf(master, job);
            Assert.Equal(JobStage.Succeeded, status.Stage);
            finished.Add((job, status.ResultParts()));
        }
        var open = Submit(master);
        SucceedMaps(master, worker, [1, 1], count: 2); // the third map stays running
        var openBefore = StatusOf(master, open);
        Assert.Equal((JobStage.Running, 2, 3), (openBefore.Stage, openBefore.MapsDone, openBefore.MapsTotal));

        // Every finished job is archived: the journal rebuilds a state holding only the open one.
        AwaitAssert(() => Assert.Equal([open], Recover(useSnapshot: true).State.Jobs.Keys), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
        Stop(master);

        var replay = Recover(useSnapshot: true);
        Assert.NotNull(replay.Offer);
        Assert.True(replay.Count < settings.SnapshotAfter + 5, $"replayed {replay.Count} events after the snapshot at {replay.Offer!.Metadata.SequenceNr}");
        Assert.Equal(replay.Offer.Metadata.SequenceNr + replay.Count, replay.HighestSequenceNr);
        // The snapshot may hold jobs archived by the events after it, or predate the open job; the state rebuilt from both holds the open job alone.
        Assert.Equal([open], replay.State.Jobs.Keys);

        // Without the snapshot, what is left of the journal starts after the snapshot: older events are gone.
        var raw = Recover(useSnapshot: false);
        Assert.Null(raw.Offer);
        Assert.True(raw.FirstSequenceNr > 1, $"the journal still replays from event {raw.FirstSequenceNr}");
        Assert.True(raw.Count < raw.HighestSequenceNr, $"replayed {raw.Count} of {raw.HighestSequenceNr} events");
        output.WriteLine($"{raw.HighestSequenceNr} events persisted; snapshot at {replay.Offer.Metadata.SequenceNr}; {replay.Count} replayed after it; {raw.Count} left in the journal");

        var again = NewMaster(settings);
        var openAfter = StatusOf(again, open);
        Assert.Equal(
            (openBefore.Stage, openBefore.MapsDone, openBefore.MapsTotal, openBefore.ReducesDone, openBefore.ReducesTotal, openBefore.Error),
            (openAfter.Stage, openAfter.MapsDone, openAfter.MapsTotal, openAfter.ReducesDone, openAfter.ReducesTotal, openAfter.Error));
        Assert.Equal(openBefore.PartAttempts, openAfter.PartAttempts);
        foreach (var (job, parts) in finished)
        {
            var status = StatusOf(again, job); // from the catalog: the master no longer holds it
            Assert.Equal(JobStage.Succeeded, status.Stage);
            Assert.Equal(parts, status.ResultParts());
            Assert.Equal([$"jobs/{job}/reduce/r00000.1/part-00000", $"jobs/{job}/reduce/r00001.1/part-00001"], status.ResultParts());
        }
    }

    [Fact]
    public void Recovery_after_ten_thousand_finished_jobs_replays_a_bounded_journal()
    {
        const int jobs = 10_000, batch = 200;
        // One actor plays the worker (500 slots, every task succeeds) and the kvstore (every deletion succeeds).
        var cluster = Sys.ActorOf(Props.Create(() => new Obliging()));
        var master = Sys.ActorOf(JobMaster.Props(Catalog, Defaults, _ => Task.FromResult(cluster), Clock));
        master.Tell(new RegisterWorker(cluster, 500, []));

        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Akka.Event.Warning));
        var run = Stopwatch.StartNew();
        var ids = new List<JobId>(jobs);
        for (var submitted = 0; submitted < jobs; submitted += batch)
        {
            for (var i = 0; i < batch; i++) master.Tell(new SubmitJob("code-1", "tiny", 1));
            for (var i = 0; i < batch; i++) ids.Add(ExpectMsg<JobAccepted>(TimeSpan.FromSeconds(30)).JobId);
        }
        output.WriteLine($"{ids.Distinct().Count()} distinct job ids");
        Assert.Equal(jobs, ids.Distinct().Count());
        AwaitAssert(() => Assert.Empty(Recover(useSnapshot: true).State.Jobs), TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(500));
        run.Stop();
        Stop(master);
        output.WriteLine($"{jobs} jobs submitted, run and archived in {run.Elapsed.TotalSeconds:0.0} s");

        var raw = Recover(useSnapshot: false);
        output.WriteLine($"journal holds events {raw.FirstSequenceNr}..{raw.HighestSequenceNr}");
        foreach (var w in warnings.ReceiveWhile(TimeSpan.FromMilliseconds(100), m => m as Akka.Event.Warning, 20)) output.WriteLine($"WARN {w?.Message}");
        var replay = Recover(useSnapshot: true);
        Assert.NotNull(replay.Offer);
        var snapshotJobs = ((MasterSnapshot)replay.Offer!.Snapshot).Jobs.Length;
        output.WriteLine($"{replay.HighestSequenceNr} events persisted; snapshot at {replay.Offer.Metadata.SequenceNr} holding {snapshotJobs} jobs; {replay.Count} events replayed after it");
        // A snapshot is taken after the journal write that reaches snapshot-after, and one write may be
        // a dispatch to every free slot (500 here): that is the margin.
        Assert.True(replay.Count <= Defaults.SnapshotAfter + 500, $"replayed {replay.Count} events after the snapshot");
        // The snapshot holds the jobs not yet archived when it was taken (finished ones wait for the
        // catalog flush and the kvstore); each is archived by an event after it, so they are bounded too.
        Assert.Empty(replay.State.Jobs);
        Assert.True(snapshotJobs <= replay.Count, $"the snapshot holds {snapshotJobs} jobs, {replay.Count} events follow it");

        var recovery = Stopwatch.StartNew();
        var again = Sys.ActorOf(JobMaster.Props(Catalog, Defaults, _ => Task.FromResult(cluster), Clock));
        again.Tell(new GetJobStatus(ids[^1]));
        var last = ExpectMsg<JobStatus>(TimeSpan.FromSeconds(30));
        recovery.Stop();
        output.WriteLine($"a new master answered its first status question after {recovery.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(JobStage.Succeeded, last.Stage);
        Assert.All(Catalog.ListJobs(), j => Assert.Equal(ExecutionStatus.Success, j.Status));
    }

    [Fact]
    public void A_journal_written_by_the_2026_11_30_build_is_still_read()
    {
        using var folder = new TempFolder();
        var journal = folder.File("journal.db");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Master", "Fixtures", "journal-2026-11-30.db"), journal);
        using var kit = new SqlJournalKit(journal);
        kit.ReadsTheOldJournal(journal);
    }

    /// <summary>A master whose journal and snapshots are Akka.Persistence.Sql on a SQLite file, as a master node's are.</summary>
    private sealed class SqlJournalKit(string journal) : MasterTestKit(SqlJournal(journal))
    {
        private static readonly JobId Succeeded = new("job-20261130-075818-6d4af4");
        private static readonly JobId Failed = new("job-20261130-075834-a1422b");
        private static readonly JobId Running = new("job-20261130-075845-200b76");

        private static Config SqlJournal(string file) => ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            akka.actor.provider = local
            akka.persistence.journal.plugin = "akka.persistence.journal.sql"
            akka.persistence.journal.sql { connection-string = "Data Source={{file}}", provider-name = "{{LinqToDB.ProviderName.SQLiteMS}}" }
            akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.sql"
            akka.persistence.snapshot-store.sql { connection-string = "Data Source={{file}}", provider-name = "{{LinqToDB.ProviderName.SQLiteMS}}" }
            """)
            .WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration)
            .WithFallback(MapReduceSettings.LoadConfig()); // its serializers: events are JSON under manifest and identifier 4711

        public void ReadsTheOldJournal(string file)
        {
            AnswerRemoveFolders(KvStore);
            var master = NewMaster();

            var running = StatusOf(master, Running);
            Assert.Equal((JobStage.Running, 0, 2, 0, 2), (running.Stage, running.MapsDone, running.MapsTotal, running.ReducesDone, running.ReducesTotal));

            // Its maps were running on workers that died with the cluster: once the recovery grace is over they start again, as attempt 2.
            var worker = CreateTestProbe();
            master.Tell(new RegisterWorker(worker.Ref, 4, []));
            worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
            Advance(master, Defaults.RecoveryGrace + TimeSpan.FromSeconds(1));
            var maps = new[] { worker.ExpectMsg<RunMapTask>(), worker.ExpectMsg<RunMapTask>() }.Select(m => m.Attempt).OrderBy(a => a.Name).ToArray();
            Assert.Equal([Attempt(Running, "m00000.2"), Attempt(Running, "m00001.2")], maps);

            // The two finished jobs are projected into the (new) catalog and archived: the journal ends with a JobArchived for each.
            AwaitAssert(() =>
            {
                Assert.Equal(ExecutionStatus.Success, Catalog.GetJob(Succeeded.Value)?.Status);
                Assert.Equal(ExecutionStatus.Failure, Catalog.GetJob(Failed.Value)?.Status);
                Assert.Equal([Succeeded.Value, Failed.Value], ArchivedIn(file).Order());
            }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));

            var succeeded = StatusOf(master, Succeeded);
            Assert.Equal((JobStage.Succeeded, 2, 4), (succeeded.Stage, succeeded.MapsTotal, succeeded.ReducesTotal));
            Assert.Equal(Enumerable.Range(0, 4).Select(p => $"jobs/{Succeeded}/reduce/r0000{p}.1/part-0000{p}"), succeeded.ResultParts());
            var failed = StatusOf(master, Failed);
            Assert.Equal(JobStage.Failed, failed.Stage);
            Assert.Equal("task.csx does not compile:\ntask.csx(1,73): error CS1002: ; expected", failed.Error);
            Assert.Empty(failed.ResultParts());
        }

        /// <summary>Jobs the journal file records as archived, read with plain SQL.</summary>
        private static List<string> ArchivedIn(string file)
        {
            using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT message FROM journal WHERE manifest = 'JobArchived' AND deleted = 0";
            using var reader = command.ExecuteReader();
            var jobs = new List<string>();
            while (reader.Read())
                jobs.Add(System.Text.Json.JsonDocument.Parse((byte[])reader[0]).RootElement.GetProperty("ExecId").GetString()!);
            return jobs;
        }
    }

    private static void AnswerRemoveFolders(Akka.TestKit.TestProbe kvstore) =>
        kvstore.SetAutoPilot(new Akka.TestKit.DelegateAutoPilot((sender, message) =>
        {
            if (message is KvStoreProtocol.RemoveFolders) sender.Tell(new KvStoreProtocol.FoldersRemoved(0));
            return Akka.TestKit.AutoPilot.KeepRunning;
        }));

    private void Stop(IActorRef master)
    {
        Watch(master);
        Sys.Stop(master);
        ExpectTerminated(master);
    }

    /// <summary>Recovers the master's persistence id in a helper and reports what it was offered and replayed.</summary>
    private Replayed Recover(bool useSnapshot)
    {
        var helper = Sys.ActorOf(Props.Create(() => new ReplayCounter(TestActor, useSnapshot)));
        var replayed = ExpectMsg<Replayed>(TimeSpan.FromSeconds(30));
        Watch(helper);
        Sys.Stop(helper);
        ExpectTerminated(helper);
        return replayed;
    }

    private sealed record Replayed(SnapshotOffer? Offer, int Count, long FirstSequenceNr, long HighestSequenceNr, MasterState State);

    private sealed class ReplayCounter : ReceivePersistentActor
    {
        private readonly bool _useSnapshot;

        public ReplayCounter(IActorRef report, bool useSnapshot)
        {
            _useSnapshot = useSnapshot;
            SnapshotOffer? offer = null;
            var (count, first, state) = (0, 0L, MasterState.Empty);
            Recover<SnapshotOffer>(o =>
            {
                offer = o;
                state = MasterState.From((MasterSnapshot)o.Snapshot);
            });
            Recover<RecoveryCompleted>(_ => report.Tell(new Replayed(offer, count, first, LastSequenceNr, state)));
            Recover<IMasterEvent>(e =>
            {
                if (count++ == 0) first = LastSequenceNr;
                state = state.Apply(e);
            });
        }

        public override string PersistenceId => JobMaster.PersistenceIdValue;

        public override Recovery Recovery => _useSnapshot ? base.Recovery : new Recovery(SnapshotSelectionCriteria.None);
    }

    /// <summary>Runs every task it is given to success and answers every kvstore deletion, at once.</summary>
    private sealed class Obliging : ReceiveActor
    {
        public Obliging()
        {
            Receive<RunMapTask>(m => Sender.Tell(new MapTaskSucceeded(m.Attempt, [1])));
            Receive<RunReduceTask>(m => Sender.Tell(new ReduceTaskSucceeded(m.Attempt, 1)));
            Receive<KvStoreProtocol.RemoveFolders>(_ => Sender.Tell(new KvStoreProtocol.FoldersRemoved(0)));
        }
    }
}
