using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using MapReduce.Storage.Incremental;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Master;

/// <summary>
/// Incremental jobs against a real SQLite catalog: tasks planned per file with their output ids, the
/// outputs an earlier job kept found again, the whole result found when nothing changed, what a job
/// keeps and what its clean-up and a dataset's deletion drop; and the job state that reads reused runs.
/// </summary>
public sealed class IncrementalPlanTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly CatalogStore _catalog;

    public IncrementalPlanTests()
    {
        _catalog = new CatalogStore(SqlLocation.SqliteFile(_folder.File("catalog.db")));
        _catalog.EnsureCreated();
    }

    public void Dispose() => _folder.Dispose();

    private const string Code = "code-0123456789abcdef";

    /// <summary>A dataset of files, each one chunk of the given text.</summary>
    private DatasetRow Dataset(string dirId, params (string Doc, string Text)[] files)
    {
        var dataset = new DatasetRow { DirId = dirId, Kind = DatasetKind.Input, Source = "/in/books", Documents = files.Length, Chunks = files.Length, CreatedAt = DateTime.UtcNow };
        _catalog.RegisterDataset(dataset, files.Select((f, i) => new ChunkRow
        {
            DirId = dirId, DocId = f.Doc, ChunkIndex = 0, ChunkId = BlobKeys.Chunk(dirId, i, 0), Bytes = f.Text.Length,
            ContentId = ContentIds.OfBytes(System.Text.Encoding.UTF8.GetBytes(f.Text)),
        }).ToList());
        return dataset;
    }

    private IncrementalPlan Plan(DatasetRow dataset, int reducers = 2)
    {
        var (plan, problem) = IncrementalPlan.Of(_catalog, dataset, Code, reducers, 16 << 20);
        Assert.Null(problem);
        return plan!;
    }

    /// <summary>What the job's end records (as the projection does), the job having run every map it did not reuse as attempt 1.</summary>
    private JobState Succeeded(string jobId, DatasetRow dataset, IncrementalPlan plan)
    {
        var job = JobState.From(new JobSubmitted(jobId, Code, dataset.DirId, 2, plan.Maps, DateTime.UnixEpoch, Lineage: plan.Lineage));
        foreach (var map in job.Maps.Where(m => !m.IsDone))
            job = job.Apply(new TaskStarted(jobId, map.Id.ToString(), $"{map.Id}.1", "w", DateTime.UnixEpoch))
                .Apply(new MapSucceeded(jobId, map.Id.ToString(), $"{map.Id}.1", [0, 1], DateTime.UnixEpoch));
        job = job with { Stage = JobStage.Succeeded };
        var (run, outputs) = StoreJanitor.Keep(job, [])!.Rows();
        _catalog.RecordIncremental(run, outputs);
        _catalog.RegisterDataset(new DatasetRow { DirId = job.ResultDatasetId, Kind = DatasetKind.Output, CreatedAt = DateTime.UtcNow }, []);
        return job;
    }

    [Fact]
    public void A_first_run_plans_one_task_per_file_with_output_ids_and_reuses_nothing()
    {
        var plan = Plan(Dataset("d1", ("a.txt", "alpha\n"), ("b.txt", "beta\n"), ("c.txt", "gamma\n")));
        Assert.Equal(["a.txt", "b.txt", "c.txt"], plan.Maps.Select(m => m.DocId));
        Assert.Equal(["m00000", "m00001", "m00002"], plan.Maps.Select(m => m.TaskId));
        Assert.Equal(ContentIds.MapOutput(Code, 2, [new("b.txt", false, ContentIds.OfBytes("beta\n"u8))]), plan.Maps[1].OutputId);
        Assert.All(plan.Maps, m => Assert.False(m.IsReused));
        Assert.Null(plan.ReusedJob);
        Assert.Equal(ContentIds.Lineage("/in/books", Code, 2), plan.Lineage);
    }

    [Fact]
    public void After_one_file_changed_only_its_task_runs_and_with_nothing_changed_the_latest_job_is_the_answer()
    {
        var first = Dataset("d1", ("a.txt", "alpha\n"), ("b.txt", "beta\n"), ("c.txt", "gamma\n"));
        var job1 = Succeeded("job-1", first, Plan(first));

        var changed = Dataset("d2", ("a.txt", "alpha\n"), ("b.txt", "beta beta\n"), ("c.txt", "gamma\n"));
        var plan2 = Plan(changed);
        Assert.Equal([true, false, true], plan2.Maps.Select(m => m.IsReused));
        Assert.Equal(BlobKeys.MapAttemptFolder(new AttemptId(job1.Id, TaskId.Map(2), 1)), plan2.Maps[2].ReusedRuns);
        Assert.Equal([0, 1], plan2.Maps[2].ReusedPartitions!);
        Assert.Null(plan2.ReusedJob);
        var job2 = Succeeded("job-2", changed, plan2);

        var same = Dataset("d3", ("a.txt", "alpha\n"), ("b.txt", "beta beta\n"), ("c.txt", "gamma\n"));
        var plan3 = Plan(same);
        Assert.All(plan3.Maps, m => Assert.True(m.IsReused));
        Assert.Equal("job-2", plan3.ReusedJob);
        // Other reducers: another job (and its outputs have other ids).
        Assert.All(Plan(same, reducers: 3).Maps, m => Assert.False(m.IsReused));
        // Its result deleted, the latest job is no answer any more: the maps are still reused, the reduces run.
        _catalog.DeleteDataset(job2.ResultDatasetId);
        Assert.Null(Plan(same).ReusedJob);
    }

    [Fact]
    public void A_later_job_keeps_what_it_used_and_drops_the_rest_of_its_lineage_and_deleting_its_input_drops_all()
    {
        var first = Dataset("d1", ("a.txt", "alpha\n"), ("b.txt", "beta\n"));
        var job1 = Succeeded("job-1", first, Plan(first));
        var changed = Dataset("d2", ("a.txt", "alpha\n"), ("b.txt", "beta beta\n"));
        var job2 = JobState.From(new JobSubmitted("job-2", Code, "d2", 2, Plan(changed).Maps, DateTime.UnixEpoch, Lineage: Plan(changed).Lineage))
            .Apply(new TaskStarted("job-2", "m00001", "m00001.1", "w", DateTime.UnixEpoch))
            .Apply(new MapSucceeded("job-2", "m00001", "m00001.1", [1], DateTime.UnixEpoch)) with { Stage = JobStage.Succeeded };
        var (run, outputs) = StoreJanitor.Keep(job2, [])!.Rows();
        var dropped = _catalog.KeepIncremental(run, outputs);
        // job-1's run of b.txt is no one's any more; its run of a.txt is job-2's now.
        Assert.Equal([BlobKeys.MapAttemptFolder(new AttemptId(job1.Id, TaskId.Map(1), 1))], dropped);
        Assert.Equal(
            [BlobKeys.MapAttemptFolder(new AttemptId(job1.Id, TaskId.Map(0), 1)), BlobKeys.MapAttemptFolder(new AttemptId(job2.Id, TaskId.Map(1), 1))],
            _catalog.FindMapOutputs(outputs.Select(o => o.OutputId).ToList()).Values.Select(o => o.RunsFolder).Order(StringComparer.Ordinal));
        // The clean-up of an incremental job that succeeded keeps its accepted runs.
        Assert.DoesNotContain(StoreJanitor.Leftovers(job2), f => f.StartsWith(BlobKeys.MapRunsFolder(job2.Id), StringComparison.Ordinal));
        Assert.Contains(BlobKeys.MapRunsFolder(job1.Id), StoreJanitor.Leftovers(job1 with { Lineage = null }));

        Assert.Empty(_catalog.DropIncremental("d1")); // not the lineage's latest input
        Assert.Equal(2, _catalog.DropIncremental("d2").Count);
        Assert.Empty(_catalog.FindMapOutputs(outputs.Select(o => o.OutputId).ToList()));
        Assert.Null(_catalog.FindIncrementalRun(run.Lineage));
    }

    [Fact]
    public void A_dataset_uploaded_without_content_ids_is_refused_with_how_to_upload_it()
    {
        var dataset = new DatasetRow { DirId = "old", Kind = DatasetKind.Input, Source = "/in", Documents = 1, Chunks = 1, CreatedAt = DateTime.UtcNow };
        _catalog.RegisterDataset(dataset, [new ChunkRow { DirId = "old", DocId = "a.txt", ChunkIndex = 0, ChunkId = BlobKeys.Chunk("old", 0, 0), Bytes = 3 }]);
        var (plan, problem) = IncrementalPlan.Of(_catalog, dataset, Code, 2, 16 << 20);
        Assert.Null(plan);
        Assert.Equal("dataset 'old' was stored without content ids (document 'a.txt'), which --incremental needs: upload the input with --incremental (--data FOLDER --incremental)", problem);
    }

    [Fact]
    public void Reused_maps_are_done_from_the_start_and_a_reduce_reads_their_runs_where_they_lie_in_map_order()
    {
        var job = JobState.From(new JobSubmitted("job-2", Code, "d2", 2,
        [
            new MapInput("m00000", "a.txt", 0, "k0", null, "mo-a", "jobs/job-1/map/m00000.1", [0, 1]),
            new MapInput("m00001", "b.txt", 0, "k1", null, "mo-b"),
            new MapInput("m00002", "c.txt", 0, "k2", null, "mo-c", "jobs/job-1/map/m00002.3", [1]),
        ], DateTime.UnixEpoch, Lineage: "ln-1"));
        Assert.Equal(2, job.MapsDone);
        Assert.Equal(TaskKind.Map, job.Phase);
        job = job.Apply(new TaskStarted("job-2", "m00001", "m00001.1", "w", DateTime.UnixEpoch))
            .Apply(new MapSucceeded("job-2", "m00001", "m00001.1", [1], DateTime.UnixEpoch));
        Assert.Equal(TaskKind.Reduce, job.Phase);

        var reduce1 = new WorkerProtocol.RunReduceTask(new AttemptId(job.Id, TaskId.Reduce(1), 1), Code, job.MapAttemptsFor(1), job.ReusedRunsFor(1));
        Assert.Equal(["jobs/job-1/map/m00000.1/p00001", "jobs/job-2/map/m00001.1/p00001", "jobs/job-1/map/m00002.3/p00001"], reduce1.RunKeys());
        var reduce0 = new WorkerProtocol.RunReduceTask(new AttemptId(job.Id, TaskId.Reduce(0), 1), Code, job.MapAttemptsFor(0), job.ReusedRunsFor(0));
        Assert.Equal(["jobs/job-1/map/m00000.1/p00000"], reduce0.RunKeys());
        // A journal replay and a snapshot give the same job.
        var snapshot = MasterState.Empty.Apply(new JobSubmitted("job-2", Code, "d2", 2, job.Maps.Select(m => m.Input!).ToArray(), DateTime.UnixEpoch, Lineage: "ln-1"))
            .ToSnapshot();
        // As the journal serializer writes snapshots: JSON, enums as names.
        var json = new System.Text.Json.JsonSerializerOptions { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };
        var restored = MasterState.From(System.Text.Json.JsonSerializer.Deserialize<MasterSnapshot>(System.Text.Json.JsonSerializer.Serialize(snapshot, json), json)!).Jobs[job.Id];
        Assert.Equal("ln-1", restored.Lineage);
        Assert.Equal(2, restored.MapsDone);
        Assert.Equal(job.ReusedRunsFor(1), restored.ReusedRunsFor(1));
    }

    [Fact]
    public void A_kept_map_output_survives_the_cluster_message_types()
    {
        Assert.Contains(typeof(KvStoreProtocol.KeptMapOutput), MapReduce.Actors.Serialization.ClusterMessageTypes.Allowed);
        Assert.Contains(typeof(ReusedRun), MapReduce.Actors.Serialization.ClusterMessageTypes.Allowed);
    }
}
