using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using MapReduce.Actors.Api;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using MapReduce.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Master;

/// <summary>
/// The master's journal over time: snapshots bound what a take-over replays, archived jobs leave
/// the state (the API's read model answers for them from the catalog), and journals and snapshots
/// written by older builds are read.
/// </summary>
public sealed class MasterHistoryTests(ITestOutputHelper output) : MasterTestKit
{
    [Fact]
    public void Snapshots_are_taken_and_used_and_older_events_are_deleted()
    {
        var settings = Defaults with { SnapshotAfter = 20 };
        AnswerCleanUps(KvStore);
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
            // The master no longer holds it: the API answers from its read model, the catalog.
            again.Tell(new GetJobStatus(job));
            ExpectMsg<UnknownJob>();
            var status = new JobReadModel(Catalog).EndedStatus(job)!;
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
        ExpectMsg<UnknownJob>(TimeSpan.FromSeconds(30)); // archived: the read model answers for it
        recovery.Stop();
        var last = new JobReadModel(Catalog).EndedStatus(ids[^1])!;
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

    [Fact]
    public void A_snapshot_written_by_the_2026_12_07_build_is_still_read()
    {
        using var folder = new TempFolder();
        var journal = folder.File("journal.db");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Master", "Fixtures", "snapshot-2026-12-07.db"), journal);
        using var kit = new SqlJournalKit(journal);
        kit.ReadsTheOldSnapshot();
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
            AnswerCleanUps(KvStore);
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

            // Archived: the API's read model answers for them.
            var succeeded = new JobReadModel(Catalog).EndedStatus(Succeeded)!;
            Assert.Equal((JobStage.Succeeded, 2, 4), (succeeded.Stage, succeeded.MapsTotal, succeeded.ReducesTotal));
            Assert.Equal(Enumerable.Range(0, 4).Select(p => $"jobs/{Succeeded}/reduce/r0000{p}.1/part-0000{p}"), succeeded.ResultParts());
            var failed = new JobReadModel(Catalog).EndedStatus(Failed)!;
            Assert.Equal(JobStage.Failed, failed.Stage);
            Assert.Equal("task.csx does not compile:\ntask.csx(1,73): error CS1002: ; expected", failed.Error);
            Assert.Empty(failed.ResultParts());
        }

        /// <summary>
        /// The snapshot (at event 17, then 4 events after it) was written by the build at main 4bc92c0,
        /// which serialized its JobState records as they were. It holds job A (dataset "packed": 16 map
        /// tasks of 2 chunks, 2 reducers): m00000 done writing partition 0, m00001 failed once (counted)
        /// and running again as attempt 2, m00002 done writing both partitions, m00003..m00006 running
        /// (m00003 succeeds writing partition 1 in the events after the snapshot), the rest pending; job B
        /// (dataset "tiny"), succeeded but not archived (the kvstore never answered); and after it job C
        /// (data-1, 3 maps), whose m00000 was handed out.
        /// </summary>
        public void ReadsTheOldSnapshot()
        {
            var (a, b, c) = (new JobId("job-20261130-080000-1d96aa"), new JobId("job-20261130-080000-5e9235"), new JobId("job-20261130-080000-618356"));
            Sys.ActorOf(Props.Create(() => new ReplayCounter(TestActor, true)));
            var replay = ExpectMsg<Replayed>(TimeSpan.FromSeconds(30));
            Assert.Equal((17L, 4, 21L), (replay.Offer!.Metadata.SequenceNr, replay.Count, replay.HighestSequenceNr));
            var state = replay.State.Jobs[a];
            // Each map's accepted attempt where it wrote into the partition: m00000 and m00002 into 0, m00002 and m00003 into 1.
            Assert.Equal([1, 0, 1, 0, .. new int[12]], state.MapAttemptsFor(0));
            Assert.Equal([0, 0, 1, 1, .. new int[12]], state.MapAttemptsFor(1));
            Assert.Equal((TaskStage.Running, 2, 1, "Map threw on document 'p.txt', chunk 2: boom"),
                (state.Maps[1].Stage, state.Maps[1].CurrentAttempt, state.Maps[1].CountedFailures, state.Maps[1].LastError));
            Assert.Equal([new MapChunk("p.txt", 14, "data/packed/000000-000014"), new MapChunk("p.txt", 15, "data/packed/000000-000015")], state.Maps[7].Input!.Chunks());

            AnswerCleanUps(KvStore);
            var master = NewMaster();
            var statusA = StatusOf(master, a);
            Assert.Equal((JobStage.Running, 3, 16, 0, 2), (statusA.Stage, statusA.MapsDone, statusA.MapsTotal, statusA.ReducesDone, statusA.ReducesTotal));
            var statusC = StatusOf(master, c);
            Assert.Equal((JobStage.Running, 0, 3, 0, 2), (statusC.Stage, statusC.MapsDone, statusC.MapsTotal, statusC.ReducesDone, statusC.ReducesTotal));
            // B is projected into the (new) catalog and archived.
            AwaitAssert(() => Assert.Equal([$"jobs/{b}/reduce/r00000.1/part-00000"], new JobReadModel(Catalog).EndedStatus(b)?.ResultParts() ?? []),
                TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));

            // Pending tasks go out at once; those the journal shows running, once the recovery grace is over, as their next attempt.
            var worker = CreateTestProbe();
            master.Tell(new RegisterWorker(worker.Ref, 40, []));
            var first = Enumerable.Range(0, 11).Select(_ => worker.ExpectMsg<RunMapTask>()).ToList();
            worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
            Advance(master, Defaults.RecoveryGrace + TimeSpan.FromSeconds(1));
            var second = Enumerable.Range(0, 5).Select(_ => worker.ExpectMsg<RunMapTask>()).ToList();
            Assert.Equal([.. Enumerable.Range(7, 9).Select(i => $"{a}/m{i:D5}.1"), $"{c}/m00001.1", $"{c}/m00002.1"], first.Select(m => m.Attempt.ToString()).Order());
            Assert.Equal([$"{a}/m00001.3", $"{a}/m00004.2", $"{a}/m00005.2", $"{a}/m00006.2", $"{c}/m00000.2"], second.Select(m => m.Attempt.ToString()).Order());
            Assert.Equal(2, first.First(m => m.Attempt.Job == a).Chunks.Length);

            // m00001 failed once before the snapshot: two more counted failures fail job A.
            master.Tell(new TaskAttemptFailed(second.Single(m => m.Attempt.Task == TaskId.Map(1)).Attempt, FailureKind.UserCode, "boom again"), worker.Ref);
            var fourth = worker.ExpectMsg<RunMapTask>();
            Assert.Equal(Attempt(a, "m00001.4"), fourth.Attempt);
            master.Tell(new TaskAttemptFailed(fourth.Attempt, FailureKind.UserCode, "boom at last"), worker.Ref);
            var failed = StatusOf(master, a);
            Assert.Equal((JobStage.Failed, "map task m00001 (document 'p.txt', chunk 2, and 1 more chunks) failed 3 times; last error: boom at last"), (failed.Stage, failed.Error));
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

    private static void AnswerCleanUps(Akka.TestKit.TestProbe kvstore) =>
        kvstore.SetAutoPilot(new Akka.TestKit.DelegateAutoPilot((sender, message) =>
        {
            if (message is KvStoreProtocol.CleanUpJob) sender.Tell(new KvStoreProtocol.FoldersRemoved(0));
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
            Receive<KvStoreProtocol.CleanUpJob>(_ => Sender.Tell(new KvStoreProtocol.FoldersRemoved(0)));
        }
    }
}
