using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// One s3rver, a proxy in front of it (which can hold one upload mid-body) and one local cluster
/// (a kvstore, masters and two worker processes) whose blobs live in s3rver's bucket
/// (mapreduce.blob-store.kind = s3), shared by the tests of <see cref="S3BlobStoreTests"/>. Without
/// s3rver nothing starts and the tests skip.
/// </summary>
public sealed class S3ClusterFixture : IAsyncLifetime
{
    public S3Server? S3 { get; private set; }
    public StallingProxy? Proxy { get; private set; }
    public RunningCluster? Cluster { get; private set; }

    public async Task InitializeAsync()
    {
        if (S3Server.Unavailable is not null) return;
        S3 = await S3Server.StartAsync();
        // Only map runs are ever held: the first PUT under jobs/ once a test arms the proxy.
        Proxy = new StallingProxy(S3.Port, $"/{S3Server.Bucket}/jobs/");
        Cluster = RunningCluster.WithHocon(S3.Hocon(Proxy.Url));
        await Cluster.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (Cluster is not null) await Cluster.DisposeAsync();
        }
        finally
        {
            if (Proxy is not null) await Proxy.DisposeAsync();
            if (S3 is not null) await S3.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class S3Cluster : ICollectionFixture<S3ClusterFixture>
{
    public const string Name = "cluster on an S3 blob store";
}

/// <summary>
/// Blobs in an S3-compatible object store: jobs give the oracle's answers, the chunks, runs and
/// parts are objects in the bucket (none in the kvstore's folder), a worker killed mid-upload
/// leaves no object, and deleting a dataset or a finished job's intermediate data deletes the
/// objects. Each test works on its own dataset and job, so they cannot disturb each other.
/// </summary>
[Collection(S3Cluster.Name)]
public sealed class S3BlobStoreTests(S3ClusterFixture fixture, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private RunningCluster Cluster => fixture.Cluster!;

    private string[] OnCluster(params string[] args) => [.. args, "--cluster", Cluster.Api, "--store", Cluster.Store];

    private async Task<List<string>> ObjectsAsync(string prefix)
    {
        using var s3 = fixture.S3!.Client();
        return await s3.ListAsync(prefix);
    }

    [SkippableFact]
    public async Task Inverted_index_then_word_count_on_the_same_data_in_S3_give_the_oracle_answers()
    {
        Skip.If(S3Server.Unavailable is not null, S3Server.Unavailable);
        var indexOut = Path.Combine(_work, "index");
        var first = await Cli.SubmitAsync(OnCluster("-d", Cli.Samples("data"), "-c", Cli.Samples("invertedindex"), "-o", indexOut, "--reducers", "3"));
        log.WriteLine(first.ToString());
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(Oracle.InvertedIndex(Cli.Samples("data")), Oracle.ReadParts(indexOut, 3));

        var dataId = Regex.Match(first.Output, @"--data-id (\S+)").Groups[1].Value;
        var countOut = Path.Combine(_work, "count");
        var second = await Cli.SubmitAsync(OnCluster("--data-id", dataId, "-c", Cli.Samples("wordcount"), "-o", countOut, "--reducers", "2"));
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(countOut, 2));

        // The bytes are objects in the bucket: 8 chunks and the manifest, the two result parts; the
        // kvstore's folder holds no blob.
        var execId = Regex.Match(second.Output, @"job (job-\S+) succeeded").Groups[1].Value;
        var chunks = await ObjectsAsync($"data/{dataId}/");
        Assert.Equal(9, chunks.Count);
        Assert.Contains($"data/{dataId}/manifest", chunks);
        Assert.Equal(2, (await ObjectsAsync($"jobs/{execId}/reduce/")).Count(k => Regex.IsMatch(k, @"/part-0000[01]$")));
        Assert.False(Directory.Exists(Path.Combine(Cluster.Store, "kvstore", "blobs")), "no blob in the kvstore's folder");
    }

    [SkippableFact]
    public async Task A_finished_jobs_map_runs_and_a_deleted_dataset_and_result_leave_no_objects()
    {
        Skip.If(S3Server.Unavailable is not null, S3Server.Unavailable);
        var output = Path.Combine(_work, "count");
        var job = await Cli.SubmitAsync(OnCluster("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--reducers", "2"));
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 2));
        var dataId = Regex.Match(job.Output, @"--data-id (\S+)").Groups[1].Value;
        var execId = Regex.Match(job.Output, @"job (job-\S+) succeeded").Groups[1].Value;

        // The map runs go once the job has ended (ListObjectsV2 + DeleteObjects); the parts stay.
        await Cli.EventuallyAsync(() => ObjectsAsync($"jobs/{execId}/map/").GetAwaiter().GetResult().Count == 0,
            TimeSpan.FromSeconds(30), $"map runs of {execId} still in the bucket");
        Assert.Equal(2, (await ObjectsAsync($"jobs/{execId}/reduce/")).Count);
        Assert.Equal(9, (await ObjectsAsync($"data/{dataId}/")).Count);

        var bytes = Directory.GetFiles(Cli.Samples("data")).Sum(f => new FileInfo(f).Length);
        var deleted = await Cli.SubmitAsync("delete", dataId, $"result-{execId}", "--cluster", Cluster.Api);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Contains($"deleted dataset {dataId}: 8 chunks, {bytes / 1_000_000.0:0.0} MB", deleted.Output);
        Assert.Matches($@"deleted dataset result-{execId}: 2 chunks, \d+\.\d MB", deleted.Output);
        Assert.Empty(await ObjectsAsync($"data/{dataId}/"));
        Assert.Empty(await ObjectsAsync($"jobs/{execId}/"));

        var again = await Cli.SubmitAsync("delete", dataId, "--cluster", Cluster.Api);
        Assert.Equal(1, again.ExitCode);
        Assert.Equal($"error: dataset '{dataId}' is not in the store", again.Error.Trim());
    }

    /// <summary>
    /// The proxy holds a worker's upload of a map run after 1 KiB of its body; both workers are
    /// SIGKILLed while it is held, and the proxy then cuts the upload off at the server. The run
    /// never becomes a readable blob, the restarted workers run the lost tasks again under new
    /// attempt ids, and the job's answer is exact.
    /// </summary>
    [SkippableFact]
    public async Task Workers_killed_mid_upload_leave_no_object_and_the_job_still_gives_the_oracle_answer()
    {
        Skip.If(S3Server.Unavailable is not null, S3Server.Unavailable);
        // Without Combine: a map run is one pair per word, far more than the 1 KiB let through.
        var script = Directory.CreateDirectory(Path.Combine(_work, "plain-count")).FullName;
        await File.WriteAllTextAsync(Path.Combine(script, "task.csx"), """
            IEnumerable<(string, int)> Map(string docId, string chunk)
            {
                foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(chunk, @"\p{L}+"))
                    yield return (m.Value, 1);
            }
            int Reduce(string word, IEnumerable<int> counts) => counts.Sum();
            """);
        var output = Path.Combine(_work, "count");
        fixture.Proxy!.Arm();
        var submit = Cli.SubmitAsync(OnCluster("-d", Cli.Samples("data"), "-c", script, "-o", output, "--reducers", "2"));

        var path = await fixture.Proxy.Stalled.WaitAsync(TimeSpan.FromMinutes(3));
        var key = path[$"/{S3Server.Bucket}/".Length..];
        Assert.Matches(@"^jobs/job-[^/]+/map/m\d+\.\d+/p\d+$", key);
        var workers = Cli.NodeProcessesUsing(Cluster.Store, "worker");
        Assert.Equal(2, workers.Count);
        foreach (var pid in workers) System.Diagnostics.Process.GetProcessById(pid).Kill();
        await fixture.Proxy.HeldUploadEnded.WaitAsync(TimeSpan.FromSeconds(30));
        using (var s3 = fixture.S3!.Client())
        {
            // AWS keeps no object of an upload cut off; s3rver keeps the bytes that arrived, without
            // the length the writer stored in the metadata: either way it is no blob, and no byte of it is read.
            Assert.False(await s3.ExistsAsync(key), $"{key} is a blob although its upload was cut off");
            try
            {
                Assert.Null(await s3.OpenReadAsync(key));
            }
            catch (MapReduce.Storage.Blobs.BlobStoreException e)
            {
                Assert.Matches($@"^{Regex.Escape(key)} in bucket {S3Server.Bucket} at {Regex.Escape(fixture.S3.Url)} is incomplete: \d+ (of \d+ bytes|bytes and no recorded length) \(its writer died mid-upload", e.Message);
            }
        }

        var result = await submit;
        log.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 2));
    }
}
