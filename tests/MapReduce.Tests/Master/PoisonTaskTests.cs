using Akka.Actor;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Master;

/// <summary>Work that kills its worker, hangs, or outlives its worker cannot wedge the master.</summary>
public sealed class PoisonTaskTests : MasterTestKit
{
    [Fact]
    public void A_map_whose_attempts_exit_their_worker_fails_the_job_naming_the_task_and_the_exit_code_and_the_next_job_runs()
    {
        var master = NewMaster();
        var job = Submit(master);
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            // Each attempt runs on a fresh worker process, as local mode restarts it, beside an innocent one.
            var worker = CreateTestProbe();
            master.Tell(new RegisterWorker(worker.Ref, 2, []));
            var poison = worker.ExpectMsg<RunMapTask>();
            var innocent = worker.ExpectMsg<RunMapTask>();
            Assert.Equal(Attempt(job, $"m00000.{attempt}"), poison.Attempt);
            master.Tell(new WorkerLeaving(worker.Ref, new WorkerExit(3, poison.Attempt)));
            if (attempt < 3) Assert.Equal(JobStage.Running, StatusOf(master, job).Stage);
            Assert.NotEqual(poison.Attempt, innocent.Attempt);
        }
        var status = StatusOf(master, job);
        Assert.Equal(JobStage.Failed, status.Stage);
        Assert.Equal("map task m00000 (document 'a.txt', chunk 0) failed 3 times; last error: worker process exited with code 3 while running map m00000", status.Error);
        // The innocent attempts were re-queued without counting against their task.
        AwaitAssert(() => Assert.All(Catalog.GetExecutions(job.Value).Where(e => e.TaskId == "m00001" && e.Status == ExecutionStatus.Failure),
            e => Assert.EndsWith("is shutting down", e.Error)), TimeSpan.FromSeconds(5));

        var healthy = CreateTestProbe();
        master.Tell(new RegisterWorker(healthy.Ref, 2, []));
        var next = Submit(master, reducers: 1, dataset: "tiny");
        var map = healthy.ExpectMsg<RunMapTask>();
        Assert.Equal(Attempt(next, "m00000.1"), map.Attempt);
        master.Tell(new MapTaskSucceeded(map.Attempt, [1]), healthy.Ref);
        master.Tell(new ReduceTaskSucceeded(healthy.ExpectMsg<RunReduceTask>().Attempt, 1), healthy.Ref);
        Assert.Equal(JobStage.Succeeded, StatusOf(master, next).Stage);
    }

    [Fact]
    public void A_worker_that_vanishes_counts_a_failure_against_each_task_it_ran()
    {
        var (master, worker, job) = StartJob(slots: 1);
        var map = worker.ExpectMsg<RunMapTask>();
        var other = CreateTestProbe();
        master.Tell(new RegisterWorker(other.Ref, 3, []));
        other.ExpectMsg<RunMapTask>();
        other.ExpectMsg<RunMapTask>();
        Sys.Stop(worker.Ref); // the master watches it: Terminated, as when its node is downed

        Assert.Equal(map.Attempt.Task, other.ExpectMsg<RunMapTask>().Attempt.Task);
        AwaitAssert(() =>
        {
            var failed = Catalog.GetExecutions(job.Value).Single(e => e.AttemptId == "m00000.1");
            Assert.Equal(ExecutionStatus.Failure, failed.Status);
            Assert.Matches(@"^worker .* was lost \(its process died or its node became unreachable\) while running map m00000$", failed.Error);
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void An_attempt_past_the_task_timeout_is_stopped_on_its_worker_and_its_slot_stays_taken_until_it_has_stopped()
    {
        var settings = Defaults with { TaskTimeout = TimeSpan.FromMinutes(1) };
        var (master, worker, job) = StartJob(slots: 1, settings: settings);
        var hung = worker.ExpectMsg<RunMapTask>();

        // The worker keeps announcing it (every 2 s in real life), so only the attempt times out.
        for (var second = 0; second <= 60; second += 5)
        {
            master.Tell(new RegisterWorker(worker.Ref, 1, [hung.Attempt]));
            Sync(master);
            Advance(master, TimeSpan.FromSeconds(5));
        }
        var cancel = worker.ExpectMsg<CancelAttempt>();
        Assert.Equal(hung.Attempt, cancel.Attempt);
        Assert.StartsWith("timed out after 60 s on ", cancel.Reason);
        // The worker still lists it: no new task for its only slot.
        master.Tell(new RegisterWorker(worker.Ref, 1, [hung.Attempt]));
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        // It stopped (reported as stopped: already counted) and is no longer listed: the slot is free.
        master.Tell(new TaskAttemptFailed(hung.Attempt, FailureKind.Stopped, "stopped"), worker.Ref);
        master.Tell(new RegisterWorker(worker.Ref, 1, []));
        Assert.Equal(Attempt(job, "m00000.2"), worker.ExpectMsg<RunMapTask>().Attempt);
        AwaitAssert(() =>
        {
            var failed = Catalog.GetExecutions(job.Value).Single(e => e.AttemptId == "m00000.1");
            Assert.StartsWith("timed out after 60 s", failed.Error);
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Attempt_ids_are_unique_across_jobs()
    {
        var master = NewMaster();
        var first = Submit(master, reducers: 1);
        var second = Submit(master, reducers: 1, dataset: "tiny");
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, 2, []));
        var attempts = new[] { worker.ExpectMsg<RunMapTask>().Attempt, worker.ExpectMsg<RunMapTask>().Attempt };
        // Fair share: each job gets one of the two slots, and both hand out their map m00000.1.
        Assert.Equal(new[] { first, second }.OrderBy(j => j.Value), attempts.Select(a => a.Job).OrderBy(j => j.Value));
        Assert.All(attempts, a => Assert.Equal("m00000.1", a.Name));
        Assert.Equal(2, attempts.Distinct().Count());
        // A result names its job: the second job's map does not complete the first's.
        master.Tell(new MapTaskSucceeded(attempts.Single(a => a.Job == second), [1]), worker.Ref);
        Assert.Equal(0, StatusOf(master, first).MapsDone);
        Assert.Equal(1, StatusOf(master, second).MapsDone);
    }

    [Fact]
    public void A_failed_job_stops_its_other_attempts_where_they_run()
    {
        var (master, worker, job) = StartJob(slots: 3);
        var maps = new[] { worker.ExpectMsg<RunMapTask>(), worker.ExpectMsg<RunMapTask>(), worker.ExpectMsg<RunMapTask>() };
        master.Tell(new TaskAttemptFailed(maps[0].Attempt, FailureKind.CompileError, "task.csx does not compile"), worker.Ref);
        var stopped = new[] { worker.ExpectMsg<CancelAttempt>(), worker.ExpectMsg<CancelAttempt>() };
        Assert.Equal(maps.Skip(1).Select(m => m.Attempt.Name).Order(), stopped.Select(s => s.Attempt.Name).Order());
        Assert.All(stopped, s => Assert.Equal($"job {job} failed", s.Reason));
    }
}
