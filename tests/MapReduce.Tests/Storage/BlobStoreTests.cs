using MapReduce.Storage.Blobs;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Storage;

public class BlobStoreTests
{
    [Theory]
    [InlineData("data/ds-1/000001-000002")]
    [InlineData("code/code-abc/task.csx")]
    [InlineData("a")]
    [InlineData("A.b_c-d/e")]
    public void Valid_keys_pass(string key) => Assert.Null(BlobKey.Problem(key));

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("data/../../x")]
    [InlineData("/absolute")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("a/./b")]
    [InlineData(".hidden")]
    [InlineData("back\\slash")]
    [InlineData("space here")]
    [InlineData("nul\0byte")]
    [InlineData("trailing/newline\n")]
    [InlineData("")]
    public void Keys_that_could_escape_or_are_malformed_are_rejected(string key)
    {
        var e = Assert.Throws<InvalidBlobKeyException>(() => BlobKey.Validate(key));
        Assert.Contains(key.Length == 0 ? "must not be empty" : "invalid blob key", e.Message);
    }

    [Fact]
    public void A_too_long_key_is_rejected_with_its_length()
    {
        var e = Assert.Throws<InvalidBlobKeyException>(() => BlobKey.Validate(new string('k', 401)));
        Assert.Equal("blob key is 401 characters long; at most 400 are allowed", e.Message);
    }

    [Fact]
    public async Task Put_get_round_trip_and_a_blob_is_written_once()
    {
        using var folder = new TempFolder();
        using var store = new LocalBlobStore(folder.Path);
        store.Put("a/b", [1, 2, 3]);
        Assert.Equal([1, 2, 3], store.ReadAll("a/b"));
        Assert.Null(store.ReadAll("a/c"));
        Assert.Null(store.OpenRead("missing/key"));

        // The same bytes again (a retried upload) are accepted; other bytes are refused and change nothing.
        Assert.Equal(3, await store.PutAsync("a/b", new MemoryStream([1, 2, 3])));
        var e = await Assert.ThrowsAsync<BlobConflictException>(() => store.PutAsync("a/b", new MemoryStream([9])));
        Assert.Equal("blob a/b already exists with other bytes; a blob is written once", e.Message);
        Assert.Throws<BlobConflictException>(() => store.Put("a/b", [1, 2, 4]));
        Assert.Equal([1, 2, 3], store.ReadAll("a/b"));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(folder.Path, "incoming")));
    }

    [Fact]
    public void A_job_projects_archive_is_stored_only_under_the_proj_id_its_bytes_hash_to()
    {
        using var folder = new TempFolder();
        using var store = new LocalBlobStore(folder.Path);
        var archive = "PK\u0003\u0004 a job's archive"u8.ToArray();
        var id = "proj-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(archive))[..16];
        Assert.Equal(id, CodeBlob.IdOf(CodeKind.Project, archive));
        Assert.Equal($"code/{id}/job.zip", CodeBlob.KeyOf(id));
        Assert.Null(CodeBlob.IdProblem(id));

        store.Put($"code/{id}/job.zip", archive);
        Assert.Equal(archive, store.ReadAll($"code/{id}/job.zip"));
        // The same bytes as a script id's archive, or as a script: each key holds only the blob its own kind of id names.
        var scriptId = CodeBlob.IdOf(CodeKind.Script, archive);
        var e = Assert.Throws<BlobConflictException>(() => store.Put($"code/{scriptId}/job.zip", archive));
        Assert.Equal($"code/{scriptId}/job.zip must hold the archive whose SHA-256 gives its id, but these bytes give {id}", e.Message);
        e = Assert.Throws<BlobConflictException>(() => store.Put($"code/{id}/task.csx", archive));
        Assert.Equal($"code/{id}/task.csx must hold the script whose SHA-256 gives its id, but these bytes give {scriptId}", e.Message);
        Assert.False(store.Exists($"code/{scriptId}/job.zip"));
    }

    [Fact]
    public void A_script_is_stored_only_under_the_id_its_bytes_hash_to()
    {
        using var folder = new TempFolder();
        using var store = new LocalBlobStore(folder.Path);
        var script = "int Reduce(string k, IEnumerable<int> v) => v.Sum();"u8.ToArray();
        // The id, computed independently: the first 16 hex digits of the SHA-256.
        var id = "code-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(script))[..16];
        Assert.Equal(id, CodeBlob.IdOf(script));

        store.Put($"code/{id}/task.csx", script);
        var evil = "System.IO.File.Delete(\"x\");"u8.ToArray();
        var e = Assert.Throws<BlobConflictException>(() => store.Put("code/code-0123456789abcdef/task.csx", evil));
        Assert.Equal($"code/code-0123456789abcdef/task.csx must hold the script whose SHA-256 gives its id, but these bytes give {CodeBlob.IdOf(evil)}", e.Message);
        Assert.False(store.Exists("code/code-0123456789abcdef/task.csx"));
        Assert.Equal(script, store.ReadAll($"code/{id}/task.csx"));

        // The same check from a digest computed while the bytes streamed (the S3 store's).
        var evilDigest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(evil));
        Assert.Equal(e.Message, CodeBlob.ProblemOfDigest("code/code-0123456789abcdef/task.csx", evilDigest));
        Assert.Null(CodeBlob.ProblemOfDigest($"code/{id}/task.csx", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(script))));
        Assert.Null(CodeBlob.ProblemOfDigest("data/ds-1/000000-000000", evilDigest));
    }

    [Fact]
    public async Task A_failed_write_leaves_neither_a_blob_nor_a_temp_file()
    {
        using var folder = new TempFolder();
        using var store = new LocalBlobStore(folder.Path);
        await Assert.ThrowsAsync<IOException>(() => store.PutAsync("x/y", new FailingStream()));
        Assert.False(store.Exists("x/y"));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(folder.Path, "incoming")));
    }

    [Fact]
    public void Stale_temp_files_from_a_crash_are_removed_on_start()
    {
        using var folder = new TempFolder();
        var first = new LocalBlobStore(folder.Path);
        File.WriteAllText(first.NewTempPath(), "half a blob");
        first.Dispose(); // its process ended
        using var _ = new LocalBlobStore(folder.Path);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(folder.Path, "incoming")));
    }

    [Fact]
    public void A_second_owner_is_refused_while_the_first_holds_the_folder_and_touches_nothing()
    {
        using var folder = new TempFolder();
        using var first = new LocalBlobStore(folder.Path);
        var writing = first.NewTempPath();
        File.WriteAllText(writing, "a blob being written");

        var refused = Assert.Throws<StoreInUseException>(() => new LocalBlobStore(folder.Path));
        Assert.Equal($"the kvstore folder {Path.GetFullPath(folder.Path)} is in use by another kvstore process", refused.Message);
        Assert.True(File.Exists(writing));
        Assert.NotNull(LocalBlobStore.TryAttach(first.Root, first.StoreId)); // its id was not replaced
    }

    [Fact]
    public void Temp_files_idle_for_the_limit_are_swept_and_live_ones_are_kept()
    {
        using var folder = new TempFolder();
        using var store = new LocalBlobStore(folder.Path);
        var abandoned = store.NewTempPath();
        var live = store.NewTempPath();
        File.WriteAllText(abandoned, "a writer that died");
        File.WriteAllText(live, "a writer still writing");
        File.SetLastWriteTimeUtc(abandoned, DateTime.UtcNow.AddHours(-2));

        Assert.Equal(1, store.SweepAbandoned(TimeSpan.FromHours(1)));
        Assert.False(File.Exists(abandoned));
        Assert.True(File.Exists(live));
    }

    [Fact]
    public void A_process_attaches_to_the_store_only_with_its_current_id_and_then_shares_its_blobs()
    {
        using var folder = new TempFolder();
        var owner = new LocalBlobStore(folder.Path);
        var attached = LocalBlobStore.TryAttach(owner.Root, owner.StoreId);
        Assert.NotNull(attached);
        attached.Put("from/client", [4, 5]);
        Assert.Equal([4, 5], owner.ReadAll("from/client"));

        // The owner restarted: a new id, and the old one no longer attaches.
        owner.Dispose();
        using var restarted = new LocalBlobStore(folder.Path);
        Assert.NotEqual(owner.StoreId, restarted.StoreId);
        Assert.Null(LocalBlobStore.TryAttach(owner.Root, owner.StoreId));
        Assert.NotNull(LocalBlobStore.TryAttach(restarted.Root, restarted.StoreId));
    }

    private sealed class FailingStream : MemoryStream
    {
        public FailingStream() : base(new byte[100]) { }
        public override Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken) => throw new IOException("disk gone");
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => throw new IOException("disk gone");
        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("disk gone");
    }
}
