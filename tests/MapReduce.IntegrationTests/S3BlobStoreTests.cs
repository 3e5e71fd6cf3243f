using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Amazon.S3.Model;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.KvStore;
using MapReduce.Node;
using MapReduce.Storage.Blobs;
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

[RunsAbout(36)]
[CollectionDefinition(Name)]
public sealed class S3Cluster : ICollectionFixture<S3ClusterFixture>
{
    public const string Name = "cluster on an S3 blob store";
}

/// <summary>
/// Blobs in an S3-compatible object store: jobs give the oracle's answers, the chunks, runs and
/// parts are objects in the bucket (none in the kvstore's folder), a worker killed mid-upload
/// leaves no object, and deleting a dataset or a finished job's intermediate data deletes the
/// objects. Blobs are written once, as in the kvstore's folder, and a node whose bucket is missing
/// or refuses it does not start. Each test works on its own dataset and job, or its own key prefix,
/// so they cannot disturb each other.
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

    [RequiresFact(typeof(S3Server))]
    public async Task Inverted_index_then_word_count_on_the_same_data_in_S3_give_the_oracle_answers()
    {
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
        var execId = second.SucceededJob;
        var chunks = await ObjectsAsync($"data/{dataId}/");
        Assert.Equal(9, chunks.Count);
        Assert.Contains($"data/{dataId}/manifest", chunks);
        Assert.Equal(2, (await ObjectsAsync($"jobs/{execId}/reduce/")).Count(k => Regex.IsMatch(k, @"/part-0000[01]$")));
        Assert.False(Directory.Exists(Path.Combine(Cluster.Store, "kvstore", "blobs")), "no blob in the kvstore's folder");
    }

    [RequiresFact(typeof(S3Server))]
    public async Task A_finished_jobs_map_runs_and_a_deleted_dataset_and_result_leave_no_objects()
    {
        var output = Path.Combine(_work, "count");
        var job = await Cli.SubmitAsync(OnCluster("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--reducers", "2"));
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 2));
        var dataId = Regex.Match(job.Output, @"--data-id (\S+)").Groups[1].Value;
        var execId = job.SucceededJob;

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
    [RequiresFact(typeof(S3Server))]
    public async Task Workers_killed_mid_upload_leave_no_object_and_the_job_still_gives_the_oracle_answer()
    {
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

    private static string Sha256Of(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static string NewPrefix() => "t-" + Guid.NewGuid().ToString("N")[..12];

    [RequiresFact(typeof(S3Server))]
    public async Task A_blob_is_written_once_the_same_bytes_again_succeed_and_other_bytes_are_refused()
    {
        var prefix = NewPrefix();
        using var store = fixture.S3!.Client(prefix);
        Assert.Equal(3, await store.PutAsync("a/b", new MemoryStream([1, 2, 3]), 3));

        // The same bytes again, seekable or not (a relayed request is spooled), change nothing.
        Assert.Equal(3, await store.PutAsync("a/b", new MemoryStream([1, 2, 3]), 3));
        Assert.Equal(3, await store.PutAsync("a/b", new OneWayStream([1, 2, 3]), 3));
        // Other bytes, of another length or the same one, are refused.
        var shorter = await Assert.ThrowsAsync<BlobConflictException>(() => store.PutAsync("a/b", new MemoryStream([9]), 1));
        Assert.Equal("blob a/b already exists with other bytes; a blob is written once", shorter.Message);
        var same = await Assert.ThrowsAsync<BlobConflictException>(() => store.PutAsync("a/b", new OneWayStream([1, 2, 4]), 3));
        Assert.Equal("blob a/b already exists with other bytes; a blob is written once", same.Message);

        Assert.Equal([1, 2, 3], await ReadAsync(store, "a/b"));
        // The object records its length and the SHA-256 of its bytes.
        using var raw = fixture.S3.RawClient();
        var head = await raw.GetObjectMetadataAsync(S3Server.Bucket, $"{prefix}/a/b");
        Assert.Equal("3", head.Metadata["x-amz-meta-mapreduce-length"]);
        Assert.Equal(Sha256Of([1, 2, 3]), head.Metadata[S3BlobStore.Sha256Metadata]);

        // A worker's client says the same.
        var client = new DirectBlobClient(store, _ => { });
        var refused = await Assert.ThrowsAsync<KvStoreConflictException>(() => client.PutAsync("a/b", [7, 7, 7]));
        Assert.Equal("blob a/b already exists with other bytes; a blob is written once", refused.Message);
        Assert.Equal(3, await client.PutAsync("a/b", [1, 2, 3]));
    }

    [RequiresFact(typeof(S3Server))]
    public async Task A_range_of_an_object_is_read_exactly_and_cut_at_its_end()
    {
        using var store = fixture.S3!.Client(NewPrefix());
        var data = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
        await store.PutAsync("runs/r", new MemoryStream(data), data.Length);
        var client = new DirectBlobClient(store, _ => { });

        async Task<byte[]> Range(long offset, long? length)
        {
            await using var blob = await client.OpenReadAsync("runs/r", offset, length);
            using var copy = new MemoryStream();
            await blob.Content.CopyToAsync(copy);
            Assert.Equal(blob.Length, copy.Length);
            return copy.ToArray();
        }

        Assert.Equal(data, await Range(0, null));
        Assert.Equal(data.AsSpan(1000, 5000).ToArray(), await Range(1000, 5000));
        Assert.Equal(data.AsSpan(99_990).ToArray(), await Range(99_990, 1000));
        Assert.Empty(await Range(100_000, 10));
        var missing = await Assert.ThrowsAsync<KvStoreException>(() => client.OpenReadAsync("runs/none", 5, 5));
        Assert.StartsWith("blob runs/none does not exist in ", missing.Message);
    }

    [RequiresFact(typeof(S3Server))]
    public async Task A_script_is_stored_only_under_the_id_its_bytes_hash_to()
    {
        using var store = fixture.S3!.Client(NewPrefix());
        var script = "int Reduce(string k, IEnumerable<int> v) => v.Sum();"u8.ToArray();
        var id = CodeBlob.IdOf(script);
        Assert.Equal(script.Length, await store.PutAsync($"code/{id}/task.csx", new MemoryStream(script), script.Length));

        var evil = "System.IO.File.Delete(\"x\");"u8.ToArray();
        var e = await Assert.ThrowsAsync<BlobConflictException>(() => store.PutAsync("code/code-0123456789abcdef/task.csx", new MemoryStream(evil), evil.Length));
        Assert.Equal($"code/code-0123456789abcdef/task.csx must hold the script whose SHA-256 gives its id, but these bytes give {CodeBlob.IdOf(evil)}", e.Message);
        Assert.False(await store.ExistsAsync("code/code-0123456789abcdef/task.csx"));
        var swap = await Assert.ThrowsAsync<BlobConflictException>(() => store.PutAsync($"code/{id}/task.csx", new OneWayStream(evil), evil.Length));
        Assert.Equal($"code/{id}/task.csx must hold the script whose SHA-256 gives its id, but these bytes give {CodeBlob.IdOf(evil)}", swap.Message);
        Assert.Equal(script, await ReadAsync(store, $"code/{id}/task.csx"));
    }

    /// <summary>
    /// What an upload cut off leaves on s3rver (its bytes, without the writer's metadata, or fewer
    /// bytes than the recorded length) is no blob: the retry of that upload replaces it. An
    /// object that records its length but no hash (written before hashes were recorded) is compared
    /// by its bytes.
    /// </summary>
    [RequiresFact(typeof(S3Server))]
    public async Task What_a_cut_off_upload_left_is_replaced_by_the_retry_and_an_object_without_a_hash_is_compared_by_its_bytes()
    {
        var prefix = NewPrefix();
        using var store = fixture.S3!.Client(prefix);
        using var raw = fixture.S3.RawClient();
        await raw.PutObjectAsync(new PutObjectRequest { BucketName = S3Server.Bucket, Key = $"{prefix}/cut/plain", InputStream = new MemoryStream([1, 2]) });
        var shortOne = new PutObjectRequest { BucketName = S3Server.Bucket, Key = $"{prefix}/cut/short", InputStream = new MemoryStream([1, 2]) };
        shortOne.Metadata.Add("x-amz-meta-mapreduce-length", "5");
        await raw.PutObjectAsync(shortOne);
        Assert.False(await store.ExistsAsync("cut/plain"));
        Assert.False(await store.ExistsAsync("cut/short"));

        Assert.Equal(5, await store.PutAsync("cut/plain", new MemoryStream([1, 2, 3, 4, 5]), 5));
        Assert.Equal(5, await store.PutAsync("cut/short", new OneWayStream([1, 2, 3, 4, 5]), 5));
        Assert.Equal([1, 2, 3, 4, 5], await ReadAsync(store, "cut/plain"));
        Assert.Equal([1, 2, 3, 4, 5], await ReadAsync(store, "cut/short"));

        var old = new PutObjectRequest { BucketName = S3Server.Bucket, Key = $"{prefix}/old/blob", InputStream = new MemoryStream([4, 5, 6]) };
        old.Metadata.Add("x-amz-meta-mapreduce-length", "3");
        await raw.PutObjectAsync(old);
        Assert.Equal(3, await store.PutAsync("old/blob", new MemoryStream([4, 5, 6]), 3));
        var e = await Assert.ThrowsAsync<BlobConflictException>(() => store.PutAsync("old/blob", new MemoryStream([4, 5, 7]), 3));
        Assert.Equal("blob old/blob already exists with other bytes; a blob is written once", e.Message);
    }

    [RequiresFact(typeof(S3Server))]
    public async Task The_data_channel_answers_409_when_a_key_in_the_bucket_holds_other_bytes()
    {
        using var store = fixture.S3!.Client(NewPrefix());
        await using var server = await BlobHttpServer.StartAsync(store, "127.0.0.1", 0);
        using var http = new HttpClient();
        var url = new Uri(server.BaseUrl, "blobs/data%2Fds-1%2F000000-000000");
        using (var first = await http.PutAsync(url, new ByteArrayContent("first"u8.ToArray())))
            Assert.Equal((HttpStatusCode.OK, "5"), (first.StatusCode, await first.Content.ReadAsStringAsync()));
        using (var again = await http.PutAsync(url, new ByteArrayContent("first"u8.ToArray())))
            Assert.Equal((HttpStatusCode.OK, "5"), (again.StatusCode, await again.Content.ReadAsStringAsync()));
        using var other = await http.PutAsync(url, new ByteArrayContent("other"u8.ToArray()));
        Assert.Equal((HttpStatusCode.Conflict, "blob data/ds-1/000000-000000 already exists with other bytes; a blob is written once"),
            (other.StatusCode, await other.Content.ReadAsStringAsync()));
        Assert.Equal("first"u8.ToArray(), await ReadAsync(store, "data/ds-1/000000-000000"));
    }

    /// <summary>
    /// The hash recorded in the metadata costs no pass over the body of its own: the SDK reads a
    /// seekable body once to hash it for the signature (that hash is the one recorded) and once to
    /// send it, as it did before hashes were recorded; a body that is not seekable is read once,
    /// into the spool file, and hashed on the way.
    /// </summary>
    [RequiresFact(typeof(S3Server))]
    public async Task A_put_reads_its_body_no_more_often_than_the_signature_needs()
    {
        var prefix = NewPrefix();
        using var store = fixture.S3!.Client(prefix);
        var bytes = RandomNumberGenerator.GetBytes(3 << 20);
        var seekable = new CountingStream(new MemoryStream(bytes));
        await store.PutAsync("big/seekable", seekable, bytes.Length);
        Assert.Equal(2L * bytes.Length, seekable.BytesRead);
        var oneWay = new OneWayStream(bytes);
        await store.PutAsync("big/one-way", oneWay, bytes.Length);
        Assert.Equal(bytes.Length, oneWay.BytesRead);

        using var raw = fixture.S3.RawClient();
        foreach (var key in new[] { "big/seekable", "big/one-way" })
            Assert.Equal(Sha256Of(bytes), (await raw.GetObjectMetadataAsync(S3Server.Bucket, $"{prefix}/{key}")).Metadata[S3BlobStore.Sha256Metadata]);
    }

    /// <summary>
    /// Every S3 node looks at its bucket before it starts: a bucket that does not exist and
    /// credentials the server does not know each stop it with one line naming the bucket, the
    /// endpoint and what to set, and exit code 6, instead of failing inside the first job.
    /// </summary>
    [RequiresFact(typeof(S3Server))]
    public async Task A_node_whose_bucket_is_missing_or_refuses_its_credentials_exits_at_start_with_one_line_saying_what_to_fix()
    {
        var s3 = fixture.S3!;
        var missing = Path.Combine(_work, "missing-bucket.hocon");
        await File.WriteAllTextAsync(missing, s3.Hocon(bucket: "no-such-bucket"));
        var refused = Path.Combine(_work, "unknown-key.hocon");
        await File.WriteAllTextAsync(refused, s3.Hocon(credential: "NOBODY"));
        var seed = $"akka.tcp://mapreduce@127.0.0.1:{LocalCluster.FreePort()}";

        await using (var node = NodeProcessRun.Start("--role", "worker", "--seed", seed, "--data-dir", Path.Combine(_work, "a"), "--config", missing))
        {
            Assert.Equal(NodeHost.BlobStoreUnusableExitCode, await node.ExitCodeAsync(TimeSpan.FromSeconds(60)));
            log.WriteLine(node.ToString());
            Assert.Equal(
                [$"error: bucket no-such-bucket does not exist at {s3.Url}: create it, or set mapreduce.blob-store.bucket to an existing bucket"],
                Lines(node.Error));
        }
        await using (var node = NodeProcessRun.Start("--role", "kvstore", "--seed", seed, "--data-dir", Path.Combine(_work, "b"), "--config", refused))
        {
            Assert.Equal(NodeHost.BlobStoreUnusableExitCode, await node.ExitCodeAsync(TimeSpan.FromSeconds(60)));
            log.WriteLine(node.ToString());
            Assert.Equal(
                [$"error: {s3.Url} refused to list bucket {S3Server.Bucket} (InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records.): " +
                 "check mapreduce.blob-store.access-key and secret-key (or this machine's AWS credentials) and that they may list, read, write and delete in the bucket"],
                Lines(node.Error));
        }
        // Local mode looks before it starts any node.
        var local = await Cli.RunAsync("MapReduce.Node", ["local", "--store", Path.Combine(_work, "local"), "--port", LocalCluster.FreePort().ToString(), "--config", missing],
            TimeSpan.FromSeconds(60));
        Assert.Equal(NodeHost.BlobStoreUnusableExitCode, local.ExitCode);
        Assert.Equal([$"error: bucket no-such-bucket does not exist at {s3.Url}: create it, or set mapreduce.blob-store.bucket to an existing bucket"], Lines(local.Error));
    }

    /// <summary>
    /// An endpoint that does not answer yet is asked again for a while (a container starting
    /// beside the node): one that starts answering within the patience lets the check pass, one
    /// that never does fails it with the reason once the patience is spent.
    /// </summary>
    [RequiresFact(typeof(S3Server))]
    public async Task The_start_check_waits_for_an_endpoint_that_is_not_up_yet_and_then_names_it()
    {
        var s3 = fixture.S3!;
        var port = LocalCluster.FreePort();
        var url = $"http://127.0.0.1:{port}";
        var clock = Stopwatch.StartNew();
        var check = S3BlobStore.BucketProblemAsync(s3.Options(serviceUrl: url), TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(check.IsCompleted);
        await using (new StallingProxy(s3.Port, "/nothing-held/", port))
        {
            var late = await check.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(late is null, late);
        }
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20));

        clock.Restart();
        var problem = await S3BlobStore.BucketProblemAsync(s3.Options(serviceUrl: url), TimeSpan.FromSeconds(2));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
        Assert.Equal($"cannot reach the S3 service at {url} for bucket {S3Server.Bucket} within 2 s (Connection refused (127.0.0.1:{port})): " +
            "check mapreduce.blob-store.service-url and that the service is running", problem);
        Assert.Equal(TimeSpan.FromSeconds(10), MapReduceSettings.Defaults.BlobStore.StartPatience);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task<byte[]> ReadAsync(S3BlobStore store, string key)
    {
        await using var blob = await store.OpenReadAsync(key) ?? throw new InvalidOperationException($"no blob {key}");
        var copy = new MemoryStream();
        await blob.Content.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>A body that can be read once, front to back, as a request the kvstore relays; counts what was read.</summary>
    private sealed class OneWayStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public long BytesRead { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = _inner.Read(buffer, offset, count);
            BytesRead += read;
            return read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A seekable body that counts the bytes read from it, over every pass.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            BytesRead += read;
            return read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
