using Akka.Actor;
using MapReduce.Actors.Api;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Master;

/// <summary>
/// The master while the kvstore is away, on the fake clock: the jobs wait (nothing is handed out),
/// their status and catalog row say what for and since when, and what failed or timed out because
/// of it is run again once it is back without using up its task's attempts. The kvstore's comings
/// and goings are the messages its <see cref="RoleWatch"/> sends.
/// </summary>
public sealed class KvStoreWaitTests : MasterTestKit
{
    private static readonly RoleWatch.RoleAway Away = new(NodeRoles.KvStore, RoleWatch.Unreachable);
    private static readonly RoleWatch.RoleBack Back = new(NodeRoles.KvStore);
    private const string Unreachable = "kvstore at http://127.0.0.1:4090/ is unreachable: Connection refused";

    /// <summary>Workers here never announce themselves again: they must not be presumed dead while the fake clock runs on.</summary>
    private static readonly MasterSettings Patient = Defaults with { WorkerTimeout = TimeSpan.FromDays(1), LostAfter = TimeSpan.FromDays(1) };

    /// <summary>Sends and waits until the master has handled it: the fake clock must not move before.</summary>
    private void Tell(IActorRef master, object message)
    {
        master.Tell(message);
        Sync(master);
    }

    [Fact]
    public void While_the_kvstore_is_away_the_job_waits_says_so_since_when_and_hands_out_nothing_until_it_is_back()
    {
        var (master, worker, job) = StartJob(slots: 2, settings: Patient);
        var first = worker.ExpectMsg<RunMapTask>();
        worker.ExpectMsg<RunMapTask>();
        Advance(master, TimeSpan.FromSeconds(5));
        var since = Clock.GetUtcNow().UtcDateTime;
        var cli = CreateTestProbe();
        master.Tell(new GetJobStatus(job, 0, 0), cli.Ref); // a long poll, held: nothing changed yet
        cli.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        Tell(master, Away);
        // The held question is answered at once: what the job waits for changed.
        var waiting = cli.ExpectMsg<JobStatus>();
        Assert.Equal(JobStage.Running, waiting.Stage);
        Assert.Equal([new Wait("kvstore", "unreachable", since)], waiting.WaitingFor!);
        AwaitAssert(() => Assert.Equal([new ApiModels.Waiting("kvstore", "unreachable", since)], new JobReadModel(Catalog).Job(job.Value)!.Job.WaitingFor),
            TimeSpan.FromSeconds(5));

        // A map finishing frees a slot, but the third map is not handed out: it would only wait too.
        master.Tell(new MapTaskSucceeded(first.Attempt, [1, 1]), worker.Ref);
        Advance(master, TimeSpan.FromSeconds(3));
        Tell(master, new RoleWatch.RoleAway(NodeRoles.KvStore, RoleWatch.NotInCluster)); // removed meanwhile: still the same wait
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Equal([new Wait("kvstore", "unreachable", since)], StatusOf(master, job).WaitingFor!);

        Advance(master, TimeSpan.FromSeconds(9));
        Tell(master, Back);
        Assert.Equal(Attempt(job, "m00002.1"), worker.ExpectMsg<RunMapTask>().Attempt);
        Assert.Empty(StatusOf(master, job).WaitingFor!);
        AwaitAssert(() => Assert.Empty(new JobReadModel(Catalog).Job(job.Value)!.Job.WaitingFor), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_job_that_ends_while_the_kvstore_is_away_waits_for_nothing_any_more()
    {
        var (master, worker, job) = StartJob(slots: 1, settings: Patient);
        var map = worker.ExpectMsg<RunMapTask>();
        Tell(master, Away);
        Assert.Single(StatusOf(master, job).WaitingFor!);
        master.Tell(new TaskAttemptFailed(map.Attempt, FailureKind.CompileError, "task.csx(1,1): error CS1002: ; expected"), worker.Ref);
        var failed = StatusOf(master, job);
        Assert.Equal((JobStage.Failed, 0), (failed.Stage, failed.WaitingFor!.Length));
    }

    [Fact]
    public void A_task_failing_on_storage_because_the_kvstore_is_away_is_run_again_when_it_is_back_without_using_up_its_attempts()
    {
        var (master, worker, job) = StartJob(slots: 1, settings: Patient);
        // Five outages in a row, each failing map 0's attempt: more than its three attempts.
        for (var n = 1; n <= 5; n++)
        {
            var map = worker.ExpectMsg<RunMapTask>();
            Assert.Equal(Attempt(job, $"m00000.{n}"), map.Attempt);
            Advance(master, TimeSpan.FromSeconds(2));
            Tell(master, Away);
            master.Tell(new TaskAttemptFailed(map.Attempt, FailureKind.Infrastructure, Unreachable), worker.Ref);
            worker.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // not run again while the kvstore is away
            Assert.Equal(JobStage.Running, StatusOf(master, job).Stage);
            Advance(master, TimeSpan.FromSeconds(40));
            Tell(master, Back);
        }
        AwaitAssert(() => Assert.Equal(5, Catalog.GetExecutions(job.Value).Count(e =>
            e.TaskId == "m00000" && e.Status == ExecutionStatus.Failure && e.Error == Unreachable + " (not counted: the kvstore was away)")), TimeSpan.FromSeconds(5));

        // An attempt started before an outage that reports its failure after the kvstore is back is excused too.
        var before = worker.ExpectMsg<RunMapTask>();
        Advance(master, TimeSpan.FromSeconds(1));
        Tell(master, Away);
        Advance(master, TimeSpan.FromSeconds(4));
        Tell(master, Back);
        Advance(master, TimeSpan.FromSeconds(1));
        master.Tell(new TaskAttemptFailed(before.Attempt, FailureKind.Infrastructure, Unreachable), worker.Ref);

        // With the kvstore there all along, the same failure counts: the job fails on the third,
        // so none of the six before used up an attempt. A failure of user code always counts.
        var third = new[] { FailureKind.Infrastructure, FailureKind.Infrastructure, FailureKind.UserCode };
        for (var i = 0; i < 3; i++)
        {
            var map = worker.ExpectMsg<RunMapTask>();
            Assert.Equal(Attempt(job, $"m00000.{7 + i}"), map.Attempt);
            Advance(master, TimeSpan.FromSeconds(1));
            if (i < 2) Assert.Equal(JobStage.Running, StatusOf(master, job).Stage);
            master.Tell(new TaskAttemptFailed(map.Attempt, third[i], i < 2 ? Unreachable : "Map threw on document 'a.txt', chunk 0: boom"), worker.Ref);
        }
        var status = StatusOf(master, job);
        Assert.Equal(JobStage.Failed, status.Stage);
        Assert.Equal("map task m00000 (document 'a.txt', chunk 0) failed 3 times; last error: Map threw on document 'a.txt', chunk 0: boom", status.Error);
    }

    [Fact]
    public void An_attempt_that_times_out_while_the_kvstore_is_away_is_stopped_but_not_counted()
    {
        var (master, worker, job) = StartJob(slots: 1, settings: Patient);
        var map = worker.ExpectMsg<RunMapTask>();
        Advance(master, TimeSpan.FromMinutes(8));
        Tell(master, Away);
        Advance(master, TimeSpan.FromMinutes(3)); // past task-timeout (10 min)
        Assert.Equal(map.Attempt, worker.ExpectMsg<CancelAttempt>().Attempt);
        master.Tell(new TaskAttemptFailed(map.Attempt, FailureKind.Stopped, "stopped"), worker.Ref);
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        AwaitAssert(() => Assert.EndsWith("timed out after 600 s on akka://test (not counted: the kvstore was away)",
            Catalog.GetExecutions(job.Value).Single(e => e.AttemptId == "m00000.1").Error), TimeSpan.FromSeconds(5));

        Tell(master, Back);
        Assert.Equal(Attempt(job, "m00000.2"), worker.ExpectMsg<RunMapTask>().Attempt);
    }
}
