using Akka.Actor;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Master;

/// <summary>What the master does with a corrupt blob an attempt reports (its checksum did not match).</summary>
public sealed class CorruptBlobTests : MasterTestKit
{
    private const string Mismatch = "checksum mismatch (xxh3 0000000000000001, stored 0000000000000002)";

    [Fact]
    public void A_reduce_that_finds_a_map_run_corrupt_has_that_map_run_again_uncounted_and_reads_the_new_run()
    {
        var master = NewMaster();
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, 1, []));
        var job = Submit(master, reducers: 1, dataset: "tiny");
        var map = worker.ExpectMsg<RunMapTask>();
        master.Tell(new MapTaskSucceeded(map.Attempt, [4]), worker.Ref);
        var reduce = worker.ExpectMsg<RunReduceTask>();
        var run = BlobKeys.MapRun(map.Attempt, 0);
        Assert.Equal([run], reduce.RunKeys());

        master.Tell(new TaskAttemptFailed(reduce.Attempt, FailureKind.Infrastructure, Mismatch, CorruptBlob: run), worker.Ref);
        var again = worker.ExpectMsg<RunMapTask>();
        Assert.Equal(Attempt(job, "m00000.2"), again.Attempt);
        master.Tell(new MapTaskSucceeded(again.Attempt, [4]), worker.Ref);
        var retry = worker.ExpectMsg<RunReduceTask>();
        Assert.Equal(Attempt(job, "r00000.2"), retry.Attempt);
        Assert.Equal([BlobKeys.MapRun(again.Attempt, 0)], retry.RunKeys());
        master.Tell(new ReduceTaskSucceeded(retry.Attempt, 4), worker.Ref);

        var status = StatusOf(master, job);
        Assert.Equal(JobStage.Succeeded, status.Stage);
        AwaitAssert(() =>
        {
            var executions = Catalog.GetExecutions(job.Value).ToDictionary(e => e.AttemptId);
            Assert.Equal($"map run {run} is corrupt ({Mismatch}): map task m00000 runs again", executions["r00000.1"].Error);
            Assert.Equal(ExecutionOutcome.Lost, executions["m00000.1"].Outcome);
            Assert.Equal(ExecutionOutcome.Succeeded, executions["m00000.2"].Outcome);
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_map_that_finds_its_input_chunk_corrupt_fails_the_job_at_once_naming_the_dataset_and_the_chunk()
    {
        var master = NewMaster();
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, 1, []));
        var job = Submit(master, reducers: 1, dataset: "tiny");
        var map = worker.ExpectMsg<RunMapTask>();
        master.Tell(new TaskAttemptFailed(map.Attempt, FailureKind.Infrastructure, Mismatch, CorruptBlob: "data/tiny/000000-000000"), worker.Ref);

        var status = StatusOf(master, job);
        Assert.Equal(JobStage.Failed, status.Stage);
        Assert.Equal($"input chunk data/tiny/000000-000000 (document 't.txt', chunk 0) of dataset tiny is corrupt ({Mismatch})", status.Error);
    }

    [Fact]
    public void A_lost_map_output_event_resets_only_the_map_attempt_it_names()
    {
        var at = new DateTime(2026, 12, 7, 0, 0, 0, DateTimeKind.Utc);
        var state = MasterState.Empty
            .Apply(new JobSubmitted("job-1", "code-1", "tiny", 1, [new MapInput("m00000", "t.txt", 0, "data/tiny/000000-000000")], at))
            .Apply(new TaskStarted("job-1", "m00000", "m00000.1", "w", at))
            .Apply(new MapSucceeded("job-1", "m00000", "m00000.1", [0], at))
            .Apply(new TaskStarted("job-1", "r00000", "r00000.1", "w", at));
        var job = state.Jobs[new JobId("job-1")];
        Assert.Equal(TaskKind.Reduce, job.Phase);

        var stale = state.Apply(new TaskFailed("job-1", "r00000", "r00000.1", "corrupt", false, at, LostMapAttempt: "m00000.7"));
        Assert.Equal(TaskKind.Reduce, stale.Jobs[job.Id].Phase);

        var lost = state.Apply(new TaskFailed("job-1", "r00000", "r00000.1", "corrupt", false, at, LostMapAttempt: "m00000.1")).Jobs[job.Id];
        Assert.Equal(TaskKind.Map, lost.Phase);
        Assert.Equal(0, lost.MapsDone);
        Assert.Equal(TaskStage.Pending, lost.Maps[0].Stage);
        Assert.Null(lost.Maps[0].AcceptedAttempt);
        Assert.Equal(TaskStage.Pending, lost.Reduces[0].Stage);
        Assert.Equal(0, lost.Reduces[0].CountedFailures);

        Assert.Equal("'r00000.1' is not an attempt of a map task of job job-1",
            state.Problem(new TaskFailed("job-1", "r00000", "r00000.1", "corrupt", false, at, LostMapAttempt: "r00000.1")));
    }
}
