using Akka.Actor;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Master;

/// <summary>Attempts that fail on a worker's full scratch disk do not count against their task, and the worker's reason for offering no slot is listed.</summary>
public sealed class ScratchDiskFullTests : MasterTestKit
{
    private const string Full = "scratch disk full: No space left on device : '/d/scratch/1/p00000'";

    [Fact]
    public void A_map_failing_on_full_scratch_disks_past_the_attempt_limit_still_runs_and_the_job_succeeds_elsewhere()
    {
        var master = NewMaster();
        var full = CreateTestProbe();
        master.Tell(new RegisterWorker(full.Ref, 1, []));
        var job = Submit(master, reducers: 1, dataset: "tiny");
        // One more than max-task-attempts (3): none of them counts.
        for (var attempt = 1; attempt <= 4; attempt++)
        {
            var map = full.ExpectMsg<RunMapTask>();
            Assert.Equal(Attempt(job, $"m00000.{attempt}"), map.Attempt);
            master.Tell(new TaskAttemptFailed(map.Attempt, FailureKind.DiskFull, Full), full.Ref);
            Assert.Equal(JobStage.Running, StatusOf(master, job).Stage);
        }
        full.ExpectMsg<RunMapTask>();
        AwaitAssert(() => Assert.Equal(4, Catalog.GetExecutions(job.Value).Count(e => e.Status == ExecutionStatus.Failure
            && e.Error == Full + " (not counted: the worker's scratch disk is full)")), TimeSpan.FromSeconds(5));

        // The worker says it offers no slot, and why; the status lists it.
        const string why = "scratch disk full (1 MiB free in /d/scratch/1, under the 64 MiB of mapreduce.worker.min-free-scratch), not offering slots";
        master.Tell(new RegisterWorker(full.Ref, 0, [], why));
        master.Tell(GetWorkers.Instance);
        var listed = ExpectMsg<WorkerList>().Workers.Single();
        Assert.Equal((0, why), (listed.Slots, listed.Unavailable));
    }
}
