using Akka.Actor;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Master;

/// <summary>A user cancels a running job: one journaled event; its attempts stop, its slots free up, its data goes.</summary>
public sealed class CancelTests : MasterTestKit
{
    [Fact]
    public void A_cancelled_job_stops_its_attempts_frees_their_slots_for_the_next_job_and_deletes_its_data()
    {
        var (master, worker, job) = StartJob(slots: 2);
        var running = new[] { worker.ExpectMsg<RunMapTask>(), worker.ExpectMsg<RunMapTask>() };

        master.Tell(new CancelJob(job));
        var status = ExpectMsg<JobStatus>();
        Assert.Equal(JobStage.Cancelled, status.Stage);
        Assert.Equal(JobCancelled.Reason, status.Error);
        var stopped = new[] { worker.ExpectMsg<CancelAttempt>(), worker.ExpectMsg<CancelAttempt>() };
        Assert.Equal(running.Select(r => r.Attempt.Name).Order(), stopped.Select(s => s.Attempt.Name).Order());
        Assert.All(stopped, s => Assert.Equal($"job {job} was cancelled", s.Reason));
        Assert.Equal([$"jobs/{job}"], KvStore.ExpectMsg<KvStoreProtocol.CleanUpJob>().Leftovers);

        // The stopped attempts report back; their slots go to the next job, and a late result changes nothing.
        foreach (var s in stopped) master.Tell(new TaskAttemptFailed(s.Attempt, FailureKind.Stopped, "stopped"), worker.Ref);
        master.Tell(new MapTaskSucceeded(running[0].Attempt, [1, 1]), worker.Ref);
        var next = Submit(master);
        Assert.Equal(next, worker.ExpectMsg<RunMapTask>().Attempt.Job);
        Assert.Equal(next, worker.ExpectMsg<RunMapTask>().Attempt.Job);
        var after = StatusOf(master, job);
        Assert.Equal(JobStage.Cancelled, after.Stage);
        Assert.Equal(0, after.MapsDone);
    }

    [Fact]
    public void Cancelling_a_finished_job_is_refused_with_its_state()
    {
        var (master, worker, job) = StartJob(slots: 3);
        master.Tell(new TaskAttemptFailed(worker.ExpectMsg<RunMapTask>().Attempt, FailureKind.CompileError, "task.csx does not compile"), worker.Ref);
        Assert.Equal(JobStage.Failed, StatusOf(master, job).Stage);

        master.Tell(new CancelJob(job));
        Assert.Equal($"job {job} has already failed; only a running job can be cancelled", ExpectMsg<CancelRejected>().Reason);

        master.Tell(new CancelJob(new JobId("job-20261130-000000-000000")));
        ExpectMsg<UnknownJob>();
    }

    [Fact]
    public void A_cancel_is_journaled_so_a_new_master_knows_the_job_was_cancelled()
    {
        var (master, worker, job) = StartJob(slots: 1);
        worker.ExpectMsg<RunMapTask>();
        master.Tell(new CancelJob(job));
        ExpectMsg<JobStatus>();
        Sys.Stop(master);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        var again = NewMaster();
        var status = StatusOf(again, job);
        Assert.Equal(JobStage.Cancelled, status.Stage);
        Assert.True(status.IsFinished);
    }
}
