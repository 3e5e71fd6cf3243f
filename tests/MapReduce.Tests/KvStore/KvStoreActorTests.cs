using System.Text;
using Akka.Actor;
using MapReduce.Actors.KvStore;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Catalog;
using MapReduce.Tests.Support;
using static MapReduce.Actors.KvStore.KvStoreProtocol;

namespace MapReduce.Tests.KvStore;

/// <summary>The kvstore actor's deletions, on a real blob folder and a real SQLite catalog.</summary>
public sealed class KvStoreActorTests : Akka.TestKit.Xunit2.TestKit
{
    private readonly TempFolder _folder = new();
    private readonly LocalBlobStore _blobs;
    private readonly CatalogStore _catalog;
    private readonly IActorRef _kvstore;

    public KvStoreActorTests() : base("akka.loglevel = WARNING")
    {
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
        _kvstore.Tell(new RegisterDataset(dirId, "/in", texts.Length, chunks));
        ExpectMsg<DatasetRegistered>();
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
    public void Removing_folders_deletes_every_blob_under_them_and_nothing_beside_them()
    {
        _blobs.Put("jobs/job-1/map/m00000.1/p00000", [1, 2]);
        _blobs.Put("jobs/job-1/map/m00001.2/p00003", [3]);
        _blobs.Put("jobs/job-1/reduce/r00000.1/part-00000", [4]);
        _blobs.Put("jobs/job-1/reduce/r00000.2/part-00000", [5]);

        _kvstore.Tell(new RemoveFolders(["jobs/job-1/map", "jobs/job-1/reduce/r00000.1", "jobs/job-2/map"]));
        Assert.Equal(3, ExpectMsg<FoldersRemoved>().Blobs);

        Assert.False(Directory.Exists(BlobFolder("jobs/job-1/map")));
        Assert.False(Directory.Exists(BlobFolder("jobs/job-1/reduce/r00000.1")));
        Assert.Equal([5], _blobs.ReadAll("jobs/job-1/reduce/r00000.2/part-00000"));
    }

    [Fact]
    public void A_folder_that_escapes_the_store_is_refused_and_nothing_is_deleted()
    {
        _blobs.Put("jobs/job-1/map/m00000.1/p00000", [1]);
        _kvstore.Tell(new RemoveFolders(["jobs/../jobs"]));
        Assert.StartsWith("invalid blob key 'jobs/../jobs'", ExpectMsg<KvStoreFailure>().Message);
        Assert.Equal([1], _blobs.ReadAll("jobs/job-1/map/m00000.1/p00000"));
    }
}
