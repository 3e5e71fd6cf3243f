using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.UserCode;
using MapReduce.Actors.Worker;
using MapReduce.Storage.Blobs;
using MapReduce.Tests.Support;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Worker;

/// <summary>A worker whose scratch disk is short of space offers no slot, says why in its announcements, and refuses a task sent meanwhile.</summary>
public sealed class WorkerScratchTests : Akka.TestKit.Xunit2.TestKit
{
    private const long MiB = 1 << 20;
    private readonly TempFolder _folder = new();
    private readonly LocalBlobStore _store;
    private readonly TaskExecutor _executor;

    public WorkerScratchTests()
    {
        _store = new LocalBlobStore(_folder.File("kvstore"));
        _executor = new TaskExecutor(new DirectBlobClient(_store, _ => { }), new CompiledCodeCache(), Directory.CreateDirectory(_folder.File("scratch")).FullName,
            new ShuffleSettings(1 << 20, long.MaxValue, false, 100), 2) { TextSliceBytes = 1 << 20 };
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _store.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public void Short_of_scratch_space_it_announces_no_slot_with_the_reason_refuses_tasks_and_offers_its_slots_once_there_is_room()
    {
        long free = 10 * MiB;
        var master = CreateTestProbe();
        var scratch = new ScratchSpace("/d/scratch/1", 64 * MiB, TimeSpan.FromSeconds(30), _ => Interlocked.Read(ref free));
        var worker = Sys.ActorOf(WorkerActor.Props(master.Ref, 2, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200), _executor, scratch));

        var announced = master.ExpectMsg<RegisterWorker>();
        Assert.Equal(0, announced.Slots);
        Assert.Equal("scratch disk full (10 MiB free in /d/scratch/1, under the 64 MiB of mapreduce.worker.min-free-scratch), not offering slots", announced.Unavailable);

        var attempt = new AttemptId(new JobId("job-1"), TaskId.Map(0), 1);
        worker.Tell(new RunMapTask(attempt, "code-1", [new MapChunk("a.txt", 0, "data/d/000000-000000")], 2), master.Ref);
        master.FishForMessage(m => m is TaskRejected r && r.Attempt == attempt);

        Interlocked.Exchange(ref free, 100 * MiB);
        var again = (RegisterWorker)master.FishForMessage(m => m is RegisterWorker { Slots: 2 });
        Assert.Null(again.Unavailable);
    }
}
