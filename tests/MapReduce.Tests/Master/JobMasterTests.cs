using Akka.Actor;
using Akka.Configuration;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.KvStore;
using MapReduce.Actors.Master;
using MapReduce.Storage.Catalog;
using MapReduce.Tests.Support;
using static MapReduce.Actors.Master.MasterProtocol;
using static MapReduce.Actors.Worker.WorkerProtocol;

namespace MapReduce.Tests.Master;

public sealed class JobMasterTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly Config InMemoryJournal = ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        """);

    private static readonly MapReduceSettings Settings = new([], 1 << 20, 2, 2, 3, 4);

    private readonly TempFolder _folder = new();
    private readonly CatalogStore _catalog;
    private readonly Akka.TestKit.TestProbe _kvstore;

    public JobMasterTests() : base(InMemoryJournal)
    {
        _catalog = new CatalogStore(SqlLocation.SqliteFile(_folder.File("catalog.db")));
        _catalog.EnsureCreated();
        _catalog.RegisterDataset(new DatasetRow { DirId = "data-1", Documents = 2, Chunks = 3, CreatedAt = DateTime.UtcNow },
        [
            new ChunkRow { DirId = "data-1", DocId = "a.txt", ChunkIndex = 0, ChunkId = "data/data-1/000000-000000" },
            new ChunkRow { DirId = "data-1", DocId = "a.txt", ChunkIndex = 1, ChunkId = "data/data-1/000000-000001" },
            new ChunkRow { DirId = "data-1", DocId = "b.txt", ChunkIndex = 0, ChunkId = "data/data-1/000001-000000" },
        ]);
        _catalog.RegisterCode(new CodeRow { CodeId = "code-1", BlobKey = "code/code-1/task.csx", CreatedAt = DateTime.UtcNow });
        _kvstore = CreateTestProbe();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _folder.Dispose();
    }

    private IActorRef NewMaster() => Sys.ActorOf(JobMaster.Props(_catalog, Settings, _ => Task.FromResult(_kvstore.Ref)));

    private string Submit(IActorRef master, int reducers = 2)
    {
        master.Tell(new SubmitJob("code-1", "data-1", reducers));
        return ExpectMsg<JobAccepted>().ExecId;
    }

    /// <summary>A master, one worker with <paramref name="slots"/> slots, and a job submitted to it.</summary>
    private (IActorRef Master, Akka.TestKit.TestProbe Worker, string ExecId) StartJob(int slots, int reducers = 2)
    {
        var master = NewMaster();
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, slots, []));
        return (master, worker, Submit(master, reducers));
    }

    /// <summary>Runs the job's three map tasks (data-1 has three chunks) to success, each writing <paramref name="pairsPerPartition"/>.</summary>
    private static void SucceedMaps(IActorRef master, Akka.TestKit.TestProbe worker, string execId, int[] pairsPerPartition)
    {
        for (var i = 0; i < 3; i++)
        {
            var map = worker.ExpectMsg<RunMapTask>();
            master.Tell(new MapTaskSucceeded(execId, map.TaskId, map.AttemptId, pairsPerPartition));
        }
    }

    [Fact]
    public void A_status_question_with_known_counts_is_answered_when_they_change_or_after_a_second()
    {
        var master = NewMaster();
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, 1, []));
        var execId = Submit(master);
        var map = worker.ExpectMsg<RunMapTask>();

        master.Tell(new GetJobStatus(execId, 0, 0));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // nothing changed yet: held
        master.Tell(new MapTaskSucceeded(execId, map.TaskId, map.AttemptId, [1, 0]));
        Assert.Equal(1, ExpectMsg<JobStatus>().MapsDone);

        master.Tell(new GetJobStatus(execId, 1, 0));
        var unchanged = ExpectMsg<JobStatus>(TimeSpan.FromSeconds(3)); // answered by the tick though nothing changed
        Assert.Equal((1, 0), (unchanged.MapsDone, unchanged.ReducesDone));
    }

    [Fact]
    public void A_worker_never_holds_more_tasks_than_its_slots_and_the_job_completes()
    {
        var master = NewMaster();
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, 2, []));
        var execId = Submit(master);

        var first = worker.ExpectMsg<RunMapTask>();
        var second = worker.ExpectMsg<RunMapTask>();
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Equal(("m00000.1", new MapChunk("a.txt", 0, first.Chunks[0].ChunkKey)), (first.AttemptId, first.Chunks.Single()));
        Assert.Equal(("m00001.1", new MapChunk("a.txt", 1, second.Chunks[0].ChunkKey)), (second.AttemptId, second.Chunks.Single()));

        master.Tell(new MapTaskSucceeded(execId, first.TaskId, first.AttemptId, [5, 0]));
        var third = worker.ExpectMsg<RunMapTask>();
        Assert.Equal("b.txt", third.Chunks.Single().DocId);
        master.Tell(new MapTaskSucceeded(execId, second.TaskId, second.AttemptId, [1, 2]));
        // No reduce may start before every map is done.
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        master.Tell(new MapTaskSucceeded(execId, third.TaskId, third.AttemptId, [0, 7]));

        var reduces = new[] { worker.ExpectMsg<RunReduceTask>(), worker.ExpectMsg<RunReduceTask>() }.OrderBy(r => r.Partition).ToArray();
        Assert.Equal([$"jobs/{execId}/map/m00000.1/p00000", $"jobs/{execId}/map/m00001.1/p00000"], reduces[0].RunKeys);
        Assert.Equal([$"jobs/{execId}/map/m00001.1/p00001", $"jobs/{execId}/map/m00002.1/p00001"], reduces[1].RunKeys);
        foreach (var r in reduces) master.Tell(new ReduceTaskSucceeded(execId, r.TaskId, r.AttemptId, r.OutputKey, 1));

        master.Tell(new GetJobStatus(execId));
        var status = ExpectMsg<JobStatus>();
        Assert.Equal(ExecutionStatus.Success, status.Status);
        Assert.Equal([reduces[0].OutputKey, reduces[1].OutputKey], status.ResultParts);
        Assert.Equal((3, 3, 2, 2), (status.MapsDone, status.MapsTotal, status.ReducesDone, status.ReducesTotal));
    }

    [Fact]
    public void The_catalog_records_the_job_its_executions_and_the_result_dataset()
    {
        var (master, worker, execId) = StartJob(slots: 10, reducers: 1);
        SucceedMaps(master, worker, execId, [1]);
        var reduce = worker.ExpectMsg<RunReduceTask>();
        master.Tell(new ReduceTaskSucceeded(execId, reduce.TaskId, reduce.AttemptId, reduce.OutputKey, 1));

        AwaitAssert(() =>
        {
            var job = _catalog.GetJob(execId)!;
            Assert.Equal((ExecutionStatus.Success, $"result-{execId}", 3), (job.Status, job.ResultDirId, job.MapTasks));
            var executions = _catalog.GetExecutions(execId);
            Assert.Equal(4, executions.Count);
            Assert.All(executions, e => Assert.Equal(ExecutionStatus.Success, e.Status));
            Assert.Equal(["data/data-1/000000-000000", "data/data-1/000000-000001", "data/data-1/000001-000000", null],
                executions.Select(e => e.ChunkId));
            Assert.Equal(reduce.OutputKey, executions.Single(e => e.ExecType == ExecutionType.Reduce).ResultDocId);
            Assert.Equal([reduce.OutputKey], _catalog.GetChunks($"result-{execId}").Select(c => c.ChunkId));
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_map_that_keeps_throwing_fails_the_job_after_three_attempts_naming_the_chunk()
    {
        var master = NewMaster();
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, 1, []));
        var execId = Submit(master);
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var map = worker.ExpectMsg<RunMapTask>();
            Assert.Equal($"m00000.{attempt}", map.AttemptId);
            master.Tell(new TaskAttemptFailed(execId, map.TaskId, map.AttemptId, FailureKind.UserCode, "Map threw on document 'a.txt', chunk 0: InvalidOperationException: boom"));
        }
        master.Tell(new GetJobStatus(execId));
        var status = ExpectMsg<JobStatus>();
        Assert.Equal(ExecutionStatus.Failure, status.Status);
        Assert.Equal("map task m00000 (document 'a.txt', chunk 0) failed 3 times; last error: Map threw on document 'a.txt', chunk 0: InvalidOperationException: boom", status.Error);
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void A_job_that_succeeded_has_its_map_runs_and_the_losing_reduce_attempts_removed_from_the_store()
    {
        var (master, worker, execId) = StartJob(slots: 10);
        SucceedMaps(master, worker, execId, [1, 1]);
        var reduces = new[] { worker.ExpectMsg<RunReduceTask>(), worker.ExpectMsg<RunReduceTask>() }.OrderBy(r => r.Partition).ToArray();
        master.Tell(new TaskAttemptFailed(execId, reduces[0].TaskId, reduces[0].AttemptId, FailureKind.Infrastructure, "disk full"));
        var retry = worker.ExpectMsg<RunReduceTask>();
        Assert.Equal("r00000.2", retry.AttemptId);
        _kvstore.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // nothing goes while the job runs
        master.Tell(new ReduceTaskSucceeded(execId, retry.TaskId, retry.AttemptId, retry.OutputKey, 1));
        master.Tell(new ReduceTaskSucceeded(execId, reduces[1].TaskId, reduces[1].AttemptId, reduces[1].OutputKey, 1));

        var removed = _kvstore.ExpectMsg<KvStoreProtocol.RemoveFolders>();
        Assert.Equal([$"jobs/{execId}/map", $"jobs/{execId}/reduce/r00000.1"], removed.Prefixes);
        Assert.StartsWith($"jobs/{execId}/reduce/r00000.2/", retry.OutputKey); // the result stays
    }

    [Fact]
    public void A_failed_job_has_everything_it_wrote_removed_from_the_store()
    {
        var (master, worker, execId) = StartJob(slots: 1);
        var map = worker.ExpectMsg<RunMapTask>();
        master.Tell(new TaskAttemptFailed(execId, map.TaskId, map.AttemptId, FailureKind.CompileError, "task.csx does not compile"));
        Assert.Equal([$"jobs/{execId}"], _kvstore.ExpectMsg<KvStoreProtocol.RemoveFolders>().Prefixes);
    }

    [Fact]
    public void A_restarted_master_asks_again_for_the_intermediate_data_of_jobs_that_ended_lately()
    {
        var (master, worker, execId) = StartJob(slots: 1);
        var map = worker.ExpectMsg<RunMapTask>();
        master.Tell(new TaskAttemptFailed(execId, map.TaskId, map.AttemptId, FailureKind.CompileError, "task.csx does not compile"));
        _kvstore.ExpectMsg<KvStoreProtocol.RemoveFolders>();
        Watch(master);
        Sys.Stop(master);
        ExpectTerminated(master);

        NewMaster();
        Assert.Equal([$"jobs/{execId}"], _kvstore.ExpectMsg<KvStoreProtocol.RemoveFolders>().Prefixes);
    }

    [Fact]
    public void A_dataset_is_deleted_only_once_no_unfinished_job_reads_it_and_no_job_starts_on_it_meanwhile()
    {
        var (master, worker, execId) = StartJob(slots: 1);
        master.Tell(new DeleteDataset("data-1"));
        Assert.Equal($"dataset 'data-1' is the input of job {execId}, which has not finished; delete it after the job ends", ExpectMsg<DeleteRejected>().Reason);
        _kvstore.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        var map = worker.ExpectMsg<RunMapTask>();
        master.Tell(new TaskAttemptFailed(execId, map.TaskId, map.AttemptId, FailureKind.CompileError, "task.csx does not compile"));
        _kvstore.ExpectMsg<KvStoreProtocol.RemoveFolders>();

        master.Tell(new DeleteDataset("data-1"));
        Assert.Equal("data-1", _kvstore.ExpectMsg<KvStoreProtocol.RemoveDataset>().DirId);
        var deleter = _kvstore.LastSender;
        master.Tell(new SubmitJob("code-1", "data-1", 2));
        Assert.Equal("dataset 'data-1' is being deleted", ExpectMsg<JobRejected>().Reason);
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
        _kvstore.ExpectMsg<KvStoreProtocol.RemoveDataset>();
        _kvstore.Reply(new KvStoreProtocol.KvStoreFailure("dataset 'data-9' is not in the store"));
        Assert.Equal("dataset 'data-9' is not in the store", ExpectMsg<DeleteRejected>().Reason);
    }

    [Fact]
    public void A_compile_error_fails_the_job_at_once_with_the_diagnostics()
    {
        var master = NewMaster();
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, 1, []));
        var execId = Submit(master);
        var map = worker.ExpectMsg<RunMapTask>();
        master.Tell(new TaskAttemptFailed(execId, map.TaskId, map.AttemptId, FailureKind.CompileError, "task.csx does not compile:\ntask.csx(1,9): error CS1525: Invalid expression term ';'"));
        master.Tell(new GetJobStatus(execId));
        var status = ExpectMsg<JobStatus>();
        Assert.Equal((ExecutionStatus.Failure, "task.csx does not compile:\ntask.csx(1,9): error CS1525: Invalid expression term ';'"), (status.Status, status.Error));
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Unknown_data_or_code_is_rejected_with_a_reason()
    {
        var master = NewMaster();
        master.Tell(new SubmitJob("code-1", "data-missing", 2));
        Assert.Equal("dataset 'data-missing' is not in the store", ExpectMsg<JobRejected>().Reason);
        master.Tell(new SubmitJob("code-missing", "data-1", 2));
        Assert.Equal("code 'code-missing' is not in the store", ExpectMsg<JobRejected>().Reason);
        master.Tell(new SubmitJob("code-1", "data-1", 0));
        Assert.Equal("--reducers must be between 1 and 10000, not 0", ExpectMsg<JobRejected>().Reason);
    }

    [Fact]
    public void A_restarted_master_recovers_from_the_journal_and_reissues_what_was_in_flight()
    {
        var master = NewMaster();
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, 2, []));
        var execId = Submit(master);
        var done = worker.ExpectMsg<RunMapTask>();
        var inFlight = worker.ExpectMsg<RunMapTask>();
        master.Tell(new MapTaskSucceeded(execId, done.TaskId, done.AttemptId, [1, 1]));
        worker.ExpectMsg<RunMapTask>(); // the third map, also in flight when the master dies
        Watch(master);
        Sys.Stop(master);
        ExpectTerminated(master);

        var recovered = NewMaster();
        recovered.Tell(new GetJobStatus(execId));
        var status = ExpectMsg<JobStatus>();
        Assert.Equal((ExecutionStatus.Running, 1), (status.Status, status.MapsDone));

        var newWorker = CreateTestProbe();
        recovered.Tell(new RegisterWorker(newWorker.Ref, 4, []));
        // Tasks the journal shows running are re-issued only after the recovery grace period (3 s),
        // in which workers still running them can claim them.
        newWorker.ExpectNoMsg(TimeSpan.FromSeconds(2));
        var reissued = new[] { newWorker.ExpectMsg<RunMapTask>(TimeSpan.FromSeconds(5)), newWorker.ExpectMsg<RunMapTask>() }.OrderBy(m => m.TaskId).ToArray();
        // New attempt numbers: the journal remembers that attempt 1 of each was handed out.
        Assert.Equal(["m00001.2", "m00002.2"], reissued.Select(m => m.AttemptId));
        // A late result of the old attempt still counts (first success wins) and the duplicate is ignored.
        recovered.Tell(new MapTaskSucceeded(execId, inFlight.TaskId, inFlight.AttemptId, [1, 0]));
        recovered.Tell(new MapTaskSucceeded(execId, reissued[0].TaskId, reissued[0].AttemptId, [0, 1]));
        recovered.Tell(new GetJobStatus(execId));
        Assert.Equal(2, ExpectMsg<JobStatus>().MapsDone);
    }

    [Fact]
    public void A_leaving_worker_has_its_tasks_run_elsewhere_at_once_without_counting_a_failure()
    {
        var master = NewMaster();
        var leaving = CreateTestProbe();
        master.Tell(new RegisterWorker(leaving.Ref, 2, []));
        var execId = Submit(master);
        var held = new[] { leaving.ExpectMsg<RunMapTask>(), leaving.ExpectMsg<RunMapTask>() };
        var other = CreateTestProbe();
        master.Tell(new RegisterWorker(other.Ref, 3, []));
        Assert.Equal("m00002.1", other.ExpectMsg<RunMapTask>().AttemptId);

        master.Tell(new WorkerLeaving(leaving.Ref));
        var moved = new[] { other.ExpectMsg<RunMapTask>(), other.ExpectMsg<RunMapTask>() }.Select(m => m.AttemptId).Order();
        Assert.Equal(["m00000.2", "m00001.2"], moved);
        // Its later announcements do not bring it back.
        master.Tell(new RegisterWorker(leaving.Ref, 2, []));
        leaving.ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        AwaitAssert(() =>
        {
            var failed = _catalog.GetExecutions(execId).Where(e => e.Status == ExecutionStatus.Failure).ToList();
            Assert.Equal(held.Select(h => h.AttemptId).Order(), failed.Select(f => f.AttemptId).Order());
            Assert.All(failed, f => Assert.EndsWith("is shutting down", f.Error));
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void After_a_restart_attempts_a_worker_still_runs_are_adopted_not_started_again()
    {
        var master = NewMaster();
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, 3, []));
        var execId = Submit(master);
        var running = new[] { worker.ExpectMsg<RunMapTask>(), worker.ExpectMsg<RunMapTask>(), worker.ExpectMsg<RunMapTask>() };
        Watch(master);
        Sys.Stop(master);
        ExpectTerminated(master);

        var recovered = NewMaster();
        recovered.Tell(new RegisterWorker(worker.Ref, 3, running.Select(r => new RunningAttempt(r.ExecId, r.TaskId, r.AttemptId)).ToArray()));
        // Past the recovery grace period nothing is handed out again: all three are adopted.
        worker.ExpectNoMsg(TimeSpan.FromSeconds(4));
        foreach (var r in running) recovered.Tell(new MapTaskSucceeded(execId, r.TaskId, r.AttemptId, [1, 1]));
        Assert.Equal(2, new[] { worker.ExpectMsg<RunReduceTask>(), worker.ExpectMsg<RunReduceTask>() }.Length);
    }
}
