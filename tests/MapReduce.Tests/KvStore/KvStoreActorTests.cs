using System.Diagnostics;
using System.Text;
using Akka.Actor;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.KvStore;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Catalog;
using MapReduce.Tests.Support;
using Xunit.Abstractions;
using static MapReduce.Actors.Protocol.KvStoreProtocol;

namespace MapReduce.Tests.KvStore;

/// <summary>The kvstore actor's registrations and deletions, on a real blob folder and a real SQLite catalog.</summary>
public sealed class KvStoreActorTests : Akka.TestKit.Xunit2.TestKit
{
    private readonly TempFolder _folder = new();
    private readonly LocalBlobStore _blobs;
    private readonly CatalogStore _catalog;
    private readonly IActorRef _kvstore;
    private readonly ITestOutputHelper _output;

    public KvStoreActorTests(ITestOutputHelper output) : base("akka.loglevel = WARNING", output)
    {
        _output = output;
        _blobs = new LocalBlobStore(_folder.File("kvstore"));
        _catalog = new CatalogStore(SqlLocation.SqliteFile(_folder.File("catalog.db")));
        _catalog.EnsureCreated();
        _kvstore = Sys.ActorOf(KvStoreActor.Props(_blobs, _catalog, "http://127.0.0.1:1/"));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _blobs.Dispose();
        _folder.Dispose();
    }

    private string BlobFolder(string prefix) => Path.Combine(_blobs.Root, "blobs", prefix);

    private void StoreDataset(string dirId, params string[] texts)
    {
        var chunks = texts.Select((text, i) => new DocumentChunk($"doc{i}.txt", 0, $"data/{dirId}/{i:D6}-000000", Encoding.UTF8.GetByteCount(text))).ToArray();
        for (var i = 0; i < texts.Length; i++) _blobs.Put(chunks[i].ChunkKey, Encoding.UTF8.GetBytes(texts[i]));
        _blobs.Put(BlobKeys.Manifest(dirId), new DatasetManifest(dirId, chunks).ToJson());
        _kvstore.Tell(new RegisterDataset(dirId, "/in", texts.Length, BlobKeys.Manifest(dirId)));
        ExpectMsg<DatasetRegistered>();
    }

    /// <summary>
    /// 5,000 chunks: their list in a message would be ~450 KB, past remoting's 128,000-byte frame
    /// (it was dropped without a word); as a manifest blob the message stays small.
    /// </summary>
    [Fact]
    public void A_dataset_of_5000_chunks_is_registered_from_its_manifest_and_removing_it_deletes_the_manifest_too()
    {
        const int files = 5000;
        var chunks = Enumerable.Range(0, files)
            .Select(i => new DocumentChunk($"sub{i % 7}/doc{i:D5}.txt", 0, BlobKeys.Chunk("data-many", i, 0), 10 + i % 3))
            .ToArray();
        foreach (var chunk in chunks) _blobs.Put(chunk.ChunkKey, new byte[chunk.Bytes]);
        _blobs.Put(BlobKeys.Manifest("data-many"), new DatasetManifest("data-many", chunks).ToJson());
        var message = new RegisterDataset("data-many", "/in", files, BlobKeys.Manifest("data-many"));

        var watch = Stopwatch.StartNew();
        _kvstore.Tell(message);
        Assert.Equal(new DatasetRegistered("data-many"), ExpectMsg<DatasetRegistered>(TimeSpan.FromSeconds(30)));
        _output.WriteLine($"registered {files} chunks in {watch.ElapsedMilliseconds} ms");

        var dataset = _catalog.GetDataset("data-many")!;
        Assert.Equal((DatasetKind.Input, "/in", files, files, chunks.Sum(c => c.Bytes)), (dataset.Kind, dataset.Source, dataset.Documents, dataset.Chunks, dataset.Bytes));
        var rows = _catalog.GetChunks("data-many");
        Assert.Equal(
            chunks.OrderBy(c => c.DocId, StringComparer.Ordinal).Select(c => (c.DocId, c.ChunkIndex, c.ChunkKey, c.Bytes)),
            rows.Select(r => (r.DocId, r.ChunkIndex, r.ChunkId, r.Bytes)));

        _kvstore.Tell(new RemoveDataset("data-many"));
        Assert.Equal(new DatasetRemoved("data-many", files, chunks.Sum(c => c.Bytes)), ExpectMsg<DatasetRemoved>(TimeSpan.FromSeconds(30)));
        Assert.False(Directory.Exists(BlobFolder("data/data-many")), "the chunks and the manifest are gone, and with them their folder");
    }

    [Fact]
    public void A_dataset_whose_manifest_was_never_stored_is_refused_and_not_registered()
    {
        _blobs.Put("data/data-x/000000-000000", [1]);
        _kvstore.Tell(new RegisterDataset("data-x", "/in", 1, BlobKeys.Manifest("data-x")));
        Assert.Equal("dataset data-x: manifest data/data-x/manifest was never stored", ExpectMsg<KvStoreFailure>().Message);
        Assert.Null(_catalog.GetDataset("data-x"));
        // A refused registration leaves nothing behind: it is how a client abandons an upload that failed half way.
        Assert.False(Directory.Exists(BlobFolder("data/data-x")), "the chunk uploaded for the refused dataset is still stored");
    }

    [Fact]
    public void A_refused_registration_of_an_id_already_registered_deletes_none_of_its_chunks()
    {
        StoreDataset("data-a", "hello world\n", "bye\n");
        _blobs.Put("data/data-b/000000-000000", [1]);

        _kvstore.Tell(new RegisterDataset("data-a", "/in", 1, "data/data-a/other-manifest"));
        Assert.Equal("dataset data-a: its manifest must be stored as data/data-a/manifest, not data/data-a/other-manifest", ExpectMsg<KvStoreFailure>().Message);

        Assert.Equal(["000000-000000", "000001-000000", "manifest"], Directory.GetFiles(BlobFolder("data/data-a")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.True(File.Exists(Path.Combine(BlobFolder("data/data-b"), "000000-000000")), "another upload's chunk must stay");
    }

    [Fact]
    public void A_manifest_that_is_not_valid_JSON_is_refused_and_not_registered()
    {
        _blobs.Put(BlobKeys.Manifest("data-x"), "{\"dirId\": \"data-x\", \"chunks\": ["u8);
        _kvstore.Tell(new RegisterDataset("data-x", "/in", 1, BlobKeys.Manifest("data-x")));
        Assert.StartsWith("dataset data-x: manifest data/data-x/manifest is not valid JSON: ", ExpectMsg<KvStoreFailure>().Message);
        Assert.Null(_catalog.GetDataset("data-x"));
    }

    [Fact]
    public void A_manifest_that_lists_a_chunk_never_stored_is_refused_and_not_registered()
    {
        var chunks = new[] { new DocumentChunk("a.txt", 0, "data/data-x/000000-000000", 1), new DocumentChunk("b.txt", 0, "data/data-x/000001-000000", 1) };
        _blobs.Put(chunks[0].ChunkKey, [1]);
        _blobs.Put(BlobKeys.Manifest("data-x"), new DatasetManifest("data-x", chunks).ToJson());
        _kvstore.Tell(new RegisterDataset("data-x", "/in", 2, BlobKeys.Manifest("data-x")));
        Assert.Equal("dataset data-x: chunk data/data-x/000001-000000 was never stored", ExpectMsg<KvStoreFailure>().Message);
        Assert.Null(_catalog.GetDataset("data-x"));
        Assert.False(Directory.Exists(BlobFolder("data/data-x")), "the chunk and the manifest of the refused dataset are still stored");
    }

    [Fact]
    public void Removing_a_dataset_deletes_its_catalog_rows_its_chunks_and_its_folder_but_no_other_dataset()
    {
        StoreDataset("data-a", "hello world\n", "bye\n");
        StoreDataset("data-b", "kept\n");

        _kvstore.Tell(new RemoveDataset("data-a"));
        Assert.Equal(new DatasetRemoved("data-a", 2, 16), ExpectMsg<DatasetRemoved>());

        Assert.Null(_catalog.GetDataset("data-a"));
        Assert.Empty(_catalog.GetChunks("data-a"));
        Assert.False(Directory.Exists(BlobFolder("data/data-a")));
        Assert.True(Directory.Exists(BlobFolder("data")), "the top-level folder stays for later uploads");
        Assert.Equal("kept\n", Encoding.UTF8.GetString(_blobs.ReadAll("data/data-b/000000-000000")!));
        Assert.Single(_catalog.GetChunks("data-b"));

        _kvstore.Tell(new RemoveDataset("data-a"));
        Assert.Equal("dataset 'data-a' is not in the store", ExpectMsg<KvStoreFailure>().Message);
    }

    [Fact]
    public void Cleaning_up_a_job_stores_its_end_marker_and_deletes_every_blob_under_its_leftovers_and_nothing_beside_them()
    {
        _blobs.Put("jobs/job-1/map/m00000.1/p00000", [1, 2]);
        _blobs.Put("jobs/job-1/map/m00001.2/p00003", [3]);
        _blobs.Put("jobs/job-1/reduce/r00000.1/part-00000", [4]);
        _blobs.Put("jobs/job-1/reduce/r00000.2/part-00000", [5]);

        _kvstore.Tell(new CleanUpJob(new JobId("job-1"), ["jobs/job-1/map", "jobs/job-1/reduce/r00000.1"]));
        Assert.Equal(3, ExpectMsg<FoldersRemoved>().Blobs);

        Assert.False(Directory.Exists(BlobFolder("jobs/job-1/map")));
        Assert.False(Directory.Exists(BlobFolder("jobs/job-1/reduce/r00000.1")));
        Assert.Equal([5], _blobs.ReadAll("jobs/job-1/reduce/r00000.2/part-00000")); // kept (the accepted part)
        Assert.Equal(0, _blobs.LengthOf("ended/job-1"));
        // From now on nothing lands in its folder; asked again (a take-over), the clean-up does the same.
        Assert.Throws<JobEndedException>(() => _blobs.Put("jobs/job-1/map/m00000.3/p00000", [6]));
        _kvstore.Tell(new CleanUpJob(new JobId("job-1"), ["jobs/job-1/map", "jobs/job-1/reduce/r00000.1"]));
        Assert.Equal(0, ExpectMsg<FoldersRemoved>().Blobs);
        Assert.Equal([5], _blobs.ReadAll("jobs/job-1/reduce/r00000.2/part-00000"));
    }

    /// <summary>
    /// Mark, then delete: a clean-up whose marker cannot be stored deletes nothing (it is asked
    /// again), so a deletion is never followed by a late write the fence would not stop.
    /// </summary>
    [Fact]
    public void A_job_is_marked_ended_before_anything_of_it_is_deleted()
    {
        _blobs.Put("jobs/job-1/map/m00000.1/p00000", [1]);
        var calls = new List<string>();
        var refuseMarker = true;
        var kvstore = Sys.ActorOf(KvStoreActor.Props(new RecordingBlobStore(_blobs, calls, key => refuseMarker && key.StartsWith("ended/", StringComparison.Ordinal)), _catalog, "http://127.0.0.1:1/"));

        kvstore.Tell(new CleanUpJob(new JobId("job-1"), ["jobs/job-1"]));
        Assert.Equal("cannot store ended/job-1: disk gone", ExpectMsg<KvStoreFailure>().Message);
        Assert.Equal(["put ended/job-1"], calls);
        Assert.Equal([1], _blobs.ReadAll("jobs/job-1/map/m00000.1/p00000"));

        refuseMarker = false;
        calls.Clear();
        kvstore.Tell(new CleanUpJob(new JobId("job-1"), ["jobs/job-1"]));
        Assert.Equal(1, ExpectMsg<FoldersRemoved>().Blobs);
        Assert.Equal(["put ended/job-1", "delete jobs/job-1"], calls);
    }

    [Fact]
    public void A_folder_that_escapes_the_store_is_refused_and_nothing_is_deleted()
    {
        _blobs.Put("jobs/job-1/map/m00000.1/p00000", [1]);
        _kvstore.Tell(new CleanUpJob(new JobId("job-1"), ["jobs/../jobs"]));
        Assert.StartsWith("invalid blob key 'jobs/../jobs'", ExpectMsg<KvStoreFailure>().Message);
        Assert.Equal([1], _blobs.ReadAll("jobs/job-1/map/m00000.1/p00000"));
    }

    /// <summary>The kvstore's folder, with every put and folder deletion written down in order; a put <paramref name="refuse"/> names fails as a lost disk would.</summary>
    private sealed class RecordingBlobStore(LocalBlobStore inner, List<string> calls, Func<string, bool> refuse) : IBlobStore
    {
        public string Location => inner.Location;

        public Task<bool> ExistsAsync(string key, CancellationToken ct = default) => inner.ExistsAsync(key, ct);

        public Task<long> PutAsync(string key, Stream data, long length, CancellationToken ct = default)
        {
            calls.Add($"put {key}");
            return refuse(key) ? Task.FromException<long>(new IOException($"cannot store {key}: disk gone")) : inner.PutAsync(key, data, length, ct);
        }

        public Task<StoredBlob?> OpenReadAsync(string key, CancellationToken ct = default) => inner.OpenReadAsync(key, ct);

        public Task<StoredBlob?> OpenReadAsync(string key, long offset, long? length, CancellationToken ct = default) => inner.OpenReadAsync(key, offset, length, ct);

        public Task<(int Blobs, long Bytes)> DeleteAllAsync(IReadOnlyCollection<string> keys, CancellationToken ct = default) => inner.DeleteAllAsync(keys, ct);

        public Task<int> DeleteFolderAsync(string prefix, CancellationToken ct = default)
        {
            calls.Add($"delete {prefix}");
            return inner.DeleteFolderAsync(prefix, ct);
        }

        public Task<int> SweepAbandonedAsync(TimeSpan idle, CancellationToken ct = default) => inner.SweepAbandonedAsync(idle, ct);
    }

    /// <summary>A manifest that lists another dataset's chunk: deleting the new dataset would delete that chunk.</summary>
    [Fact]
    public void A_manifest_may_list_only_chunks_under_its_own_datasets_prefix()
    {
        StoreDataset("data-a", "theirs\n");
        var foreign = new DocumentChunk("x.txt", 0, "data/data-a/000000-000000", 7);
        _blobs.Put(BlobKeys.Manifest("data-b"), new DatasetManifest("data-b", [foreign]).ToJson());
        _kvstore.Tell(new RegisterDataset("data-b", "/in", 1, BlobKeys.Manifest("data-b")));
        Assert.Equal("dataset data-b: chunk data/data-a/000000-000000 is not under data/data-b/ (a dataset's chunks lie under its own prefix)",
            ExpectMsg<KvStoreFailure>().Message);
        Assert.Null(_catalog.GetDataset("data-b"));

        // Nor may it name its own manifest as a chunk.
        _blobs.Put(BlobKeys.Manifest("data-c"), new DatasetManifest("data-c", [new DocumentChunk("m", 0, BlobKeys.Manifest("data-c"), 10)]).ToJson());
        _kvstore.Tell(new RegisterDataset("data-c", "/in", 1, BlobKeys.Manifest("data-c")));
        Assert.Equal("dataset data-c: chunk data/data-c/manifest is the dataset's manifest, not a chunk", ExpectMsg<KvStoreFailure>().Message);

        _kvstore.Tell(new RemoveDataset("data-b"));
        ExpectMsg<KvStoreFailure>();
        Assert.Equal("theirs\n", Encoding.UTF8.GetString(_blobs.ReadAll("data/data-a/000000-000000")!));
    }

    [Fact]
    public async Task A_dataset_id_is_registered_once_the_same_registration_again_is_answered_as_done()
    {
        StoreDataset("data-a", "first\n");
        // A client that asks again (its answer was lost) is told it is done, and nothing changes.
        _kvstore.Tell(new RegisterDataset("data-a", "/in", 1, BlobKeys.Manifest("data-a")));
        Assert.Equal(new DatasetRegistered("data-a"), ExpectMsg<DatasetRegistered>());

        // Another chunk list under the same id (a manifest replaced behind the store's back) is refused.
        _blobs.Put("data/data-a/000001-000000", "second\n"u8.ToArray());
        await _blobs.DeleteAllAsync([BlobKeys.Manifest("data-a")]);
        _blobs.Put(BlobKeys.Manifest("data-a"), new DatasetManifest("data-a", [new DocumentChunk("b.txt", 0, "data/data-a/000001-000000", 7)]).ToJson());
        _kvstore.Tell(new RegisterDataset("data-a", "/elsewhere", 1, BlobKeys.Manifest("data-a")));
        Assert.Equal("dataset data-a is already registered with other chunks; a dataset id is registered once (upload under a new id)",
            ExpectMsg<KvStoreFailure>().Message);
        Assert.Equal(("/in", "data/data-a/000000-000000"), (_catalog.GetDataset("data-a")!.Source, Assert.Single(_catalog.GetChunks("data-a")).ChunkId));
    }

    [Fact]
    public void Result_ids_are_reserved_for_job_results()
    {
        var chunk = new DocumentChunk("part-00000", 0, "data/result-job-1/000000-000000", 7);
        _blobs.Put(chunk.ChunkKey, "script\n"u8.ToArray());
        _blobs.Put(BlobKeys.Manifest("result-job-1"), new DatasetManifest("result-job-1", [chunk]).ToJson());
        _kvstore.Tell(new RegisterDataset("result-job-1", "/in", 1, BlobKeys.Manifest("result-job-1")));
        Assert.Equal("dataset id result-job-1: ids that start with 'result-' are reserved for the results of jobs", ExpectMsg<KvStoreFailure>().Message);
        Assert.Null(_catalog.GetDataset("result-job-1"));
    }

    [Theory]
    [InlineData("../x", "dataset id '../x' is not valid: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100 characters")]
    [InlineData("a/b", "dataset id 'a/b' is not valid: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100 characters")]
    [InlineData("data-x\n", "dataset id 'data-x?' is not valid: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100 characters")]
    public void A_dataset_id_that_is_not_one_plain_name_is_refused(string id, string message)
    {
        _kvstore.Tell(new RegisterDataset(id, "/in", 1, $"data/{id}/manifest"));
        Assert.Equal(message, ExpectMsg<KvStoreFailure>().Message);
        Assert.Null(_catalog.GetDataset(id));
    }

    [Theory]
    [InlineData("../../x", "code/../../x/task.csx", "code id '../../x' is not valid: it is 'code-' and the first 16 hex digits of the script's SHA-256 (or 'proj-' and those of a job project's archive)")]
    [InlineData("code-0123456789abcdef", "data/data-a/000000-000000", "code code-0123456789abcdef: its blob must be code/code-0123456789abcdef/task.csx, not data/data-a/000000-000000")]
    [InlineData("proj-0123456789abcdef", "code/proj-0123456789abcdef/task.csx", "code proj-0123456789abcdef: its blob must be code/proj-0123456789abcdef/job.zip, not code/proj-0123456789abcdef/task.csx")]
    [InlineData("code-0123456789abcdef", "code/code-0123456789abcdef/job.zip", "code code-0123456789abcdef: its blob must be code/code-0123456789abcdef/task.csx, not code/code-0123456789abcdef/job.zip")]
    public void Code_is_registered_only_under_a_well_formed_id_and_its_own_key(string codeId, string blobKey, string message)
    {
        _blobs.Put("data/data-a/000000-000000", [1]);
        _kvstore.Tell(new RegisterCode(codeId, blobKey, "task.csx"));
        Assert.Equal(message, ExpectMsg<KvStoreFailure>().Message);
        Assert.Null(_catalog.GetCode(codeId));
    }

    [Fact]
    public void Temp_files_are_swept_as_often_and_as_old_as_the_settings_say()
    {
        // mapreduce.kvstore.sweep-every and abandoned-after: the defaults (10 min, 1 h) would delete neither file during the test.
        var incoming = Directory.CreateDirectory(Path.Combine(_blobs.Root, "incoming")).FullName;
        var abandoned = Path.Combine(incoming, "abandoned.tmp");
        var recent = Path.Combine(incoming, "recent.tmp");
        foreach (var (file, age) in new[] { (abandoned, TimeSpan.FromMinutes(45)), (recent, TimeSpan.FromMinutes(15)) })
        {
            File.WriteAllBytes(file, [1]);
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow - age);
        }
        Sys.ActorOf(KvStoreActor.Props(_blobs, _catalog, "http://127.0.0.1:1/", new TempSweepSettings(TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(30))));
        AwaitCondition(() => !File.Exists(abandoned), TimeSpan.FromSeconds(5));
        Assert.True(File.Exists(recent));
    }
}
