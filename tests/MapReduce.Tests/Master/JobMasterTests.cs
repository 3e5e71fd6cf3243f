using Akka.Actor;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Master;

public sealed class JobMasterTests : MasterTestKit
{
    [Fact]
    public void A_status_question_with_known_counts_is_answered_when_they_change_or_after_the_long_poll()
    {
        var (master, worker, job) = StartJob(slots: 1);
        var map = worker.ExpectMsg<RunMapTask>();

        master.Tell(new GetJobStatus(job, 0, 0));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // nothing changed yet: held
        master.Tell(new MapTaskSucceeded(map.Attempt, [1, 0]), worker.Ref);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // changed, but held for less than status-interval
        Clock.Advance(Defaults.StatusInterval);
        master.Tell(JobMaster.Tick.Instance);
        Assert.Equal(1, ExpectMsg<JobStatus>().MapsDone);

        master.Tell(new GetJobStatus(job, 1, 0));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Clock.Advance(Defaults.LongPoll + TimeSpan.FromMilliseconds(1));
        master.Tell(JobMaster.Tick.Instance);
        var unchanged = ExpectMsg<JobStatus>(); // answered on the tick though nothing changed
        Assert.Equal((1, 0), (unchanged.MapsDone, unchanged.ReducesDone));
    }

    /// <summary>With and without mapreduce.master.journal-batch-delay: holding events changes nothing but when they are written.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    public void A_worker_never_holds_more_tasks_than_its_slots_and_the_job_completes(int journalBatchDelayMs)
    {
        var (master, worker, job) = StartJob(slots: 2, settings: Defaults with { JournalBatchDelay = TimeSpan.FromMilliseconds(journalBatchDelayMs) });

        var first = worker.ExpectMsg<RunMapTask>();
        var second = worker.ExpectMsg<RunMapTask>();
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Equal((Attempt(job, "m00000.1"), new MapChunk("a.txt", 0, "data/data-1/000000-000000")), (first.Attempt, first.Chunks.Single()));
        Assert.Equal((Attempt(job, "m00001.1"), new MapChunk("a.txt", 1, "data/data-1/000000-000001")), (second.Attempt, second.Chunks.Single()));

        master.Tell(new MapTaskSucceeded(first.Attempt, [5, 0]), worker.Ref);
        var third = worker.ExpectMsg<RunMapTask>();
        Assert.Equal("b.txt", third.Chunks.Single().DocId);
        master.Tell(new MapTaskSucceeded(second.Attempt, [1, 2]), worker.Ref);
        // No reduce may start before every map is done.
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        master.Tell(new MapTaskSucceeded(third.Attempt, [0, 7]), worker.Ref);

        var reduces = new[] { worker.ExpectMsg<RunReduceTask>(), worker.ExpectMsg<RunReduceTask>() }.OrderBy(r => r.Partition).ToArray();
        Assert.Equal([$"jobs/{job}/map/m00000.1/p00000", $"jobs/{job}/map/m00001.1/p00000"], reduces[0].RunKeys());
        Assert.Equal([$"jobs/{job}/map/m00001.1/p00001", $"jobs/{job}/map/m00002.1/p00001"], reduces[1].RunKeys());
        foreach (var r in reduces) master.Tell(new ReduceTaskSucceeded(r.Attempt, 1), worker.Ref);

        var status = StatusOf(master, job);
        Assert.Equal(JobStage.Succeeded, status.Stage);
        Assert.Equal([$"jobs/{job}/reduce/r00000.1/part-00000", $"jobs/{job}/reduce/r00001.1/part-00001"], status.ResultParts());
        Assert.Equal((3, 3, 2, 2), (status.MapsDone, status.MapsTotal, status.ReducesDone, status.ReducesTotal));
    }

    [Fact]
    public void The_catalog_records_the_job_its_executions_and_the_result_dataset()
    {
        var (master, worker, job) = StartJob(slots: 10, reducers: 1);
        SucceedMaps(master, worker, [1]);
        var reduce = worker.ExpectMsg<RunReduceTask>();
        master.Tell(new ReduceTaskSucceeded(reduce.Attempt, 1), worker.Ref);
        var part = BlobKeys.ReduceOutput(reduce.Attempt);

        AwaitAssert(() =>
        {
            var row = Catalog.GetJob(job.Value)!;
            Assert.Equal((ExecutionStatus.Success, $"result-{job}", 3), (row.Status, row.ResultDirId, row.MapTasks));
            var executions = Catalog.GetExecutions(job.Value);
            Assert.Equal(4, executions.Count);
            Assert.All(executions, e => Assert.Equal(ExecutionStatus.Success, e.Status));
            Assert.Equal(["data/data-1/000000-000000", "data/data-1/000000-000001", "data/data-1/000001-000000", null], executions.Select(e => e.ChunkId));
            Assert.Equal(part, executions.Single(e => e.ExecType == ExecutionType.Reduce).ResultDocId);
            Assert.Equal([part], Catalog.GetChunks($"result-{job}").Select(c => c.ChunkId));
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_map_that_keeps_throwing_fails_the_job_after_three_attempts_naming_the_chunk()
    {
        var (master, worker, job) = StartJob(slots: 1);
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var map = worker.ExpectMsg<RunMapTask>();
            Assert.Equal(Attempt(job, $"m00000.{attempt}"), map.Attempt);
            master.Tell(new TaskAttemptFailed(map.Attempt, FailureKind.UserCode, "Map threw on document 'a.txt', chunk 0: InvalidOperationException: boom"), worker.Ref);
        }
        var status = StatusOf(master, job);
        Assert.Equal(JobStage.Failed, status.Stage);
        Assert.Equal("map task m00000 (document 'a.txt', chunk 0) failed 3 times; last error: Map threw on document 'a.txt', chunk 0: InvalidOperationException: boom", status.Error);
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void A_job_that_succeeded_has_its_map_runs_and_the_losing_reduce_attempts_removed_from_the_store()
    {
        var (master, worker, job) = StartJob(slots: 10);
        SucceedMaps(master, worker, [1, 1]);
        var reduces = new[] { worker.ExpectMsg<RunReduceTask>(), worker.ExpectMsg<RunReduceTask>() }.OrderBy(r => r.Partition).ToArray();
        master.Tell(new TaskAttemptFailed(reduces[0].Attempt, FailureKind.Infrastructure, "disk full"), worker.Ref);
        var retry = worker.ExpectMsg<RunReduceTask>();
        Assert.Equal(Attempt(job, "r00000.2"), retry.Attempt);
        KvStore.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // nothing goes while the job runs
        master.Tell(new ReduceTaskSucceeded(retry.Attempt, 1), worker.Ref);
        master.Tell(new ReduceTaskSucceeded(reduces[1].Attempt, 1), worker.Ref);

        var removed = KvStore.ExpectMsg<KvStoreProtocol.CleanUpJob>();
        Assert.Equal(job, removed.Job); // the kvstore stores its end marker first
        Assert.Equal([$"jobs/{job}/map", $"jobs/{job}/reduce/r00000.1"], removed.Leftovers);
        Assert.Equal($"jobs/{job}/reduce/r00000.2/part-00000", StatusOf(master, job).ResultParts()[0]); // the result stays
    }

    [Fact]
    public void A_failed_job_has_everything_it_wrote_removed_from_the_store()
    {
        var (master, worker, job) = StartJob(slots: 1);
        master.Tell(new TaskAttemptFailed(worker.ExpectMsg<RunMapTask>().Attempt, FailureKind.CompileError, "task.csx does not compile"), worker.Ref);
        Assert.Equal([$"jobs/{job}"], KvStore.ExpectMsg<KvStoreProtocol.CleanUpJob>().Leftovers);
    }

    [Fact]
    public void A_restarted_master_asks_again_for_the_intermediate_data_of_ended_jobs_it_had_not_archived()
    {
        var (master, worker, job) = StartJob(slots: 1);
        master.Tell(new TaskAttemptFailed(worker.ExpectMsg<RunMapTask>().Attempt, FailureKind.CompileError, "task.csx does not compile"), worker.Ref);
        KvStore.ExpectMsg<KvStoreProtocol.CleanUpJob>(); // not answered: the job stays unarchived
        Watch(master);
        Sys.Stop(master);
        ExpectTerminated(master);

        NewMaster();
        Assert.Equal([$"jobs/{job}"], KvStore.ExpectMsg<KvStoreProtocol.CleanUpJob>().Leftovers);
    }

    [Fact]
    public void A_dataset_is_deleted_only_once_no_unfinished_job_reads_it_and_no_job_starts_on_it_meanwhile()
    {
        var (master, worker, job) = StartJob(slots: 1);
        master.Tell(new DeleteDataset("data-1"));
        Assert.Equal($"dataset 'data-1' is the input of job {job}, which has not finished; delete it after the job ends", ExpectMsg<DeleteRejected>().Reason);
        KvStore.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        master.Tell(new TaskAttemptFailed(worker.ExpectMsg<RunMapTask>().Attempt, FailureKind.CompileError, "task.csx does not compile"), worker.Ref);
        KvStore.ExpectMsg<KvStoreProtocol.CleanUpJob>();

        master.Tell(new DeleteDataset("data-1"));
        Assert.Equal("data-1", KvStore.ExpectMsg<KvStoreProtocol.RemoveDataset>().DirId);
        var deleter = KvStore.LastSender;
        master.Tell(new SubmitJob("code-1", "data-1", 2));
        Assert.Equal("dataset 'data-1' is being deleted", ExpectMsg<JobRejected>(AdmissionTimeout).Reason);
        master.Tell(new DeleteDataset("data-1"));
        Assert.Equal("dataset 'data-1' is already being deleted", ExpectMsg<DeleteRejected>().Reason);

        deleter.Tell(new KvStoreProtocol.DatasetRemoved("data-1", 3, 1234));
        Assert.Equal(new DatasetDeleted("data-1", 3, 1234), ExpectMsg<DatasetDeleted>());
    }

    [Fact]
    public void A_deletion_the_kvstore_refuses_is_answered_with_its_reason()
    {
        var master = NewMaster();
        master.Tell(new DeleteDataset("data-9"));
        KvStore.ExpectMsg<KvStoreProtocol.RemoveDataset>();
        KvStore.Reply(new KvStoreProtocol.KvStoreFailure("dataset 'data-9' is not in the store"));
        Assert.Equal("dataset 'data-9' is not in the store", ExpectMsg<DeleteRejected>().Reason);
    }

    [Fact]
    public void A_compile_error_fails_the_job_at_once_with_the_diagnostics()
    {
        var (master, worker, job) = StartJob(slots: 1);
        master.Tell(new TaskAttemptFailed(worker.ExpectMsg<RunMapTask>().Attempt, FailureKind.CompileError,
            "task.csx does not compile:\ntask.csx(1,9): error CS1525: Invalid expression term ';'"), worker.Ref);
        var status = StatusOf(master, job);
        Assert.Equal((JobStage.Failed, "task.csx does not compile:\ntask.csx(1,9): error CS1525: Invalid expression term ';'"), (status.Stage, status.Error));
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Unknown_data_or_code_and_limits_are_rejected_with_a_reason()
    {
        var master = NewMaster(Defaults with { MaxMapTasks = 2 });
        master.Tell(new SubmitJob("code-1", "data-missing", 2));
        Assert.Equal("dataset 'data-missing' is not in the store", ExpectMsg<JobRejected>(AdmissionTimeout).Reason);
        master.Tell(new SubmitJob("code-missing", "data-1", 2));
        Assert.Equal("code 'code-missing' is not in the store", ExpectMsg<JobRejected>(AdmissionTimeout).Reason);
        master.Tell(new SubmitJob("code-1", "data-1", 0));
        Assert.Equal("--reducers must be between 1 and 10000, not 0", ExpectMsg<JobRejected>(AdmissionTimeout).Reason);
        master.Tell(new SubmitJob("code-1", "data-1", 1));
        Assert.Equal("dataset 'data-1' makes 3 map tasks, more than the 2 a job may have (mapreduce.master.max-map-tasks: each reduce task " +
            "is told which run of every map to read, in one message); raise mapreduce.split-size so that small files share map tasks, " +
            "or --block-size for fewer, larger chunks", ExpectMsg<JobRejected>(AdmissionTimeout).Reason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    public void A_restarted_master_recovers_from_the_journal_and_reissues_what_was_in_flight(int journalBatchDelayMs)
    {
        var settings = Defaults with { JournalBatchDelay = TimeSpan.FromMilliseconds(journalBatchDelayMs) };
        var (master, worker, job) = StartJob(slots: 2, settings: settings);
        var done = worker.ExpectMsg<RunMapTask>();
        var inFlight = worker.ExpectMsg<RunMapTask>();
        master.Tell(new MapTaskSucceeded(done.Attempt, [1, 1]), worker.Ref);
        worker.ExpectMsg<RunMapTask>(); // the third map, also in flight when the master dies
        Watch(master);
        Sys.Stop(master);
        ExpectTerminated(master);

        var recovered = NewMaster(settings);
        var status = StatusOf(recovered, job);
        Assert.Equal((JobStage.Running, 1), (status.Stage, status.MapsDone));

        var newWorker = CreateTestProbe();
        recovered.Tell(new RegisterWorker(newWorker.Ref, 4, []));
        // Tasks the journal shows running are re-issued only after the recovery grace period, in
        // which workers still running them can claim them.
        Advance(recovered, Defaults.RecoveryGrace - TimeSpan.FromMilliseconds(100));
        newWorker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Advance(recovered, TimeSpan.FromMilliseconds(200));
        var reissued = new[] { newWorker.ExpectMsg<RunMapTask>(), newWorker.ExpectMsg<RunMapTask>() }.OrderBy(m => m.Attempt.Task.Index).ToArray();
        // New attempt numbers: the journal remembers that attempt 1 of each was handed out.
        Assert.Equal([Attempt(job, "m00001.2"), Attempt(job, "m00002.2")], reissued.Select(m => m.Attempt));
        // A late result of the old attempt, from a worker that never announced itself to this master
        // and no longer holds the task's current attempt, cannot be checked: it is ignored, and the
        // re-issued attempt counts.
        recovered.Tell(new MapTaskSucceeded(inFlight.Attempt, [1, 0]), worker.Ref);
        Assert.Equal(1, StatusOf(recovered, job).MapsDone);
        recovered.Tell(new MapTaskSucceeded(reissued[0].Attempt, [0, 1]), newWorker.Ref);
        Assert.Equal(2, StatusOf(recovered, job).MapsDone);
    }

    [Fact]
    public void A_leaving_worker_has_its_tasks_run_elsewhere_at_once_without_counting_a_failure()
    {
        var (master, leaving, job) = StartJob(slots: 2);
        var held = new[] { leaving.ExpectMsg<RunMapTask>(), leaving.ExpectMsg<RunMapTask>() };
        var other = CreateTestProbe();
        master.Tell(new RegisterWorker(other.Ref, 3, []));
        Assert.Equal(Attempt(job, "m00002.1"), other.ExpectMsg<RunMapTask>().Attempt);

        master.Tell(new WorkerLeaving(leaving.Ref));
        var moved = new[] { other.ExpectMsg<RunMapTask>(), other.ExpectMsg<RunMapTask>() }.Select(m => m.Attempt.Name).Order();
        Assert.Equal(["m00000.2", "m00001.2"], moved);
        // Its later announcements do not bring it back.
        master.Tell(new RegisterWorker(leaving.Ref, 2, []));
        leaving.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        AwaitAssert(() =>
        {
            var failed = Catalog.GetExecutions(job.Value).Where(e => e.Status == ExecutionStatus.Failure).ToList();
            Assert.Equal(held.Select(h => h.Attempt.Name).Order(), failed.Select(f => f.AttemptId).Order());
            Assert.All(failed, f => Assert.EndsWith("is shutting down", f.Error));
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void After_a_restart_attempts_a_worker_still_runs_are_adopted_not_started_again()
    {
        var (master, worker, job) = StartJob(slots: 3);
        var running = new[] { worker.ExpectMsg<RunMapTask>(), worker.ExpectMsg<RunMapTask>(), worker.ExpectMsg<RunMapTask>() };
        Watch(master);
        Sys.Stop(master);
        ExpectTerminated(master);

        var recovered = NewMaster();
        recovered.Tell(new RegisterWorker(worker.Ref, 3, running.Select(r => r.Attempt).ToArray()));
        // Past the recovery grace period nothing is handed out again: all three are adopted.
        Advance(recovered, Defaults.RecoveryGrace + TimeSpan.FromSeconds(1));
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        foreach (var r in running) recovered.Tell(new MapTaskSucceeded(r.Attempt, [1, 1]), worker.Ref);
        Assert.Equal(2, new[] { worker.ExpectMsg<RunReduceTask>(), worker.ExpectMsg<RunReduceTask>() }.Length);
    }

    [Fact]
    public void A_result_from_a_worker_the_attempt_was_not_given_to_is_ignored_and_logged()
    {
        var (master, worker, job) = StartJob(slots: 1);
        var map = worker.ExpectMsg<RunMapTask>();
        var intruder = CreateTestProbe(); // a member that never ran it (a registered worker, even)
        master.Tell(new RegisterWorker(intruder.Ref, 1, []));
        intruder.ExpectMsg<RunMapTask>();

        EventFilter.Warning(start: $"ignored a success for attempt {map.Attempt} from {intruder.Ref.Path}, which it was not given to").ExpectOne(() =>
            master.Tell(new MapTaskSucceeded(map.Attempt, [1, 1]), intruder.Ref));
        EventFilter.Warning(start: $"ignored a failure for attempt {map.Attempt} from {TestActor.Path}").ExpectOne(() =>
            master.Tell(new TaskAttemptFailed(map.Attempt, FailureKind.CompileError, "forged")));
        EventFilter.Warning(start: $"ignored a refusal for attempt {map.Attempt} from {intruder.Ref.Path}").ExpectOne(() =>
            master.Tell(new TaskRejected(map.Attempt), intruder.Ref));
        var status = StatusOf(master, job);
        Assert.Equal((JobStage.Running, 0), (status.Stage, status.MapsDone));

        // The worker it was given to is still heard.
        master.Tell(new MapTaskSucceeded(map.Attempt, [1, 1]), worker.Ref);
        Assert.Equal(1, StatusOf(master, job).MapsDone);
    }
}
