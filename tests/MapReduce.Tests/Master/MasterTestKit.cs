using Akka.Actor;
using Akka.Configuration;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using MapReduce.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Master;

/// <summary>
/// A job master on an in-memory journal, a real SQLite catalog holding dataset data-1 (three
/// chunks) and code-1, a probe for the kvstore, and a fake clock: time passes only when a test
/// advances it (and then tells the master to <see cref="JobMaster.Tick"/>).
/// </summary>
public abstract class MasterTestKit : Akka.TestKit.Xunit2.TestKit
{
    private static readonly Config InMemoryJournal = ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """);

    /// <summary>The settings of hocon/mapreduce.hocon: 3 attempts, 10 min task timeout, 3 s recovery grace, 1 s long poll.</summary>
    protected static readonly MasterSettings Defaults = MapReduceSettings.From(MapReduceSettings.LoadConfig()).Master;

    private readonly TempFolder _folder = new();

    protected MasterTestKit(Config? config = null) : base((config ?? Config.Empty).WithFallback(InMemoryJournal))
    {
        Catalog = new CatalogStore(SqlLocation.SqliteFile(_folder.File("catalog.db")));
        Catalog.EnsureCreated();
        Catalog.RegisterDataset(new DatasetRow { DirId = "data-1", Documents = 2, Chunks = 3, CreatedAt = DateTime.UtcNow },
        [
            new ChunkRow { DirId = "data-1", DocId = "a.txt", ChunkIndex = 0, ChunkId = "data/data-1/000000-000000" },
            new ChunkRow { DirId = "data-1", DocId = "a.txt", ChunkIndex = 1, ChunkId = "data/data-1/000000-000001" },
            new ChunkRow { DirId = "data-1", DocId = "b.txt", ChunkIndex = 0, ChunkId = "data/data-1/000001-000000" },
        ]);
        Catalog.RegisterDataset(new DatasetRow { DirId = "tiny", Documents = 1, Chunks = 1, CreatedAt = DateTime.UtcNow },
            [new ChunkRow { DirId = "tiny", DocId = "t.txt", ChunkIndex = 0, ChunkId = "data/tiny/000000-000000" }]);
        Catalog.RegisterCode(new CodeRow { CodeId = "code-1", BlobKey = "code/code-1/task.csx", CreatedAt = DateTime.UtcNow });
        KvStore = CreateTestProbe();
    }

    protected static readonly TimeSpan AdmissionTimeout = TimeSpan.FromSeconds(15);

    protected CatalogStore Catalog { get; }
    protected Akka.TestKit.TestProbe KvStore { get; }
    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _folder.Dispose();
    }

    protected IActorRef NewMaster(MasterSettings? settings = null) =>
        Sys.ActorOf(JobMaster.Props(Catalog, settings ?? Defaults, _ => Task.FromResult(KvStore.Ref), Clock));

    /// <summary>Lets time pass on the fake clock, has the master look at it, and waits until it has.</summary>
    protected void Advance(IActorRef master, TimeSpan by)
    {
        Clock.Advance(by);
        master.Tell(JobMaster.Tick.Instance);
        Sync(master);
    }

    /// <summary>Returns once the master has handled everything sent to it before (a question it answers in turn).</summary>
    protected void Sync(IActorRef master)
    {
        master.Tell(new GetJobStatus(new JobId("sync")));
        ExpectMsg<UnknownJob>();
    }

    protected JobId Submit(IActorRef master, int reducers = 2, string dataset = "data-1")
    {
        master.Tell(new SubmitJob("code-1", dataset, reducers));
        // Admission reads the catalog: a process's first linq2db query can take seconds on 2 busy cores.
        return ExpectMsg<JobAccepted>(AdmissionTimeout).JobId;
    }

    /// <summary>A master, one worker with <paramref name="slots"/> slots, and a job submitted to it.</summary>
    protected (IActorRef Master, Akka.TestKit.TestProbe Worker, JobId Job) StartJob(int slots, int reducers = 2, MasterSettings? settings = null)
    {
        var master = NewMaster(settings);
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, slots, []));
        return (master, worker, Submit(master, reducers));
    }

    /// <summary>Runs <paramref name="count"/> map tasks the worker receives to success, each writing <paramref name="pairsPerPartition"/>.</summary>
    protected static void SucceedMaps(IActorRef master, Akka.TestKit.TestProbe worker, int[] pairsPerPartition, int count = 3)
    {
        for (var i = 0; i < count; i++) master.Tell(new MapTaskSucceeded(worker.ExpectMsg<RunMapTask>().Attempt, pairsPerPartition), worker.Ref);
    }

    protected JobStatus StatusOf(IActorRef master, JobId job)
    {
        master.Tell(new GetJobStatus(job));
        // Answered after the master's recovery, which a CPU shared with integration tests can make take seconds.
        return ExpectMsg<JobStatus>(TimeSpan.FromSeconds(15));
    }

    protected static AttemptId Attempt(JobId job, string name) => AttemptId.Parse(job, name);
}
