using System.Text;
using MapReduce.Actors.BlobClients;
using MapReduce.Storage.Blobs;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.KvStore;

/// <summary>
/// The client that goes straight to a blob store, here over a folder store (the S3 one is
/// exercised by the integration tests against s3rver): byte ranges, buffers, files, and the
/// messages a caller sees.
/// </summary>
public sealed class DirectBlobClientTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly LocalBlobStore _store;
    private readonly List<string> _log = [];
    private readonly DirectBlobClient _client;

    public DirectBlobClientTests()
    {
        _store = new LocalBlobStore(_folder.File("store"));
        _client = new DirectBlobClient(_store, _log.Add);
    }

    public void Dispose()
    {
        _store.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task A_byte_range_of_a_file_is_stored_and_read_back_as_bytes_a_pooled_buffer_and_a_file()
    {
        var input = _folder.File("input.txt");
        await File.WriteAllTextAsync(input, "first line\nsecond line\n");
        Assert.Equal(12, await _client.PutFileRangeAsync("data/d/000000-000001", input, 11, 12));

        Assert.Equal("second line\n", Encoding.UTF8.GetString(await _client.GetBytesAsync("data/d/000000-000001")));
        using (var rented = await _client.GetRentedAsync("data/d/000000-000001"))
            Assert.Equal("second line\n", Encoding.UTF8.GetString(rented.Span));
        var copy = _folder.File("copy.txt");
        await ((IBlobClient)_client).GetToFilesAsync([("data/d/000000-000001", copy)], 2);
        Assert.Equal("second line\n", await File.ReadAllTextAsync(copy));
        Assert.False(File.Exists(copy + ".part"));
        Assert.Equal([$"blob bytes go straight to the folder {_store.Root}"], _log);
    }

    [Fact]
    public async Task A_missing_blob_a_bad_key_and_a_file_that_shrank_are_named()
    {
        var missing = await Assert.ThrowsAsync<KvStoreException>(() => _client.GetBytesAsync("jobs/job-1/map/m00000.1/p00000"));
        Assert.Equal($"blob jobs/job-1/map/m00000.1/p00000 does not exist in the folder {_store.Root}", missing.Message);
        var bad = await Assert.ThrowsAsync<KvStoreException>(() => _client.PutAsync("../escape", [1]));
        Assert.StartsWith("invalid blob key '../escape'", bad.Message);

        var input = _folder.File("short.txt");
        await File.WriteAllTextAsync(input, "abc");
        var changed = await Assert.ThrowsAsync<SourceChangedException>(() => _client.PutFileRangeAsync("data/d/000000-000000", input, 0, 10));
        Assert.Equal($"'{input}' changed while it was stored: expected 10 bytes from offset 0, found 3", changed.Message);
        Assert.False(_store.Exists("data/d/000000-000000"));
    }

    [Fact]
    public async Task A_key_that_holds_other_bytes_is_refused_with_the_stores_message_and_the_same_bytes_again_succeed()
    {
        Assert.Equal(3, await _client.PutAsync("jobs/j/reduce/r00000.1/part-00000", [1, 2, 3]));
        Assert.Equal(3, await _client.PutAsync("jobs/j/reduce/r00000.1/part-00000", [1, 2, 3]));
        var e = await Assert.ThrowsAsync<KvStoreConflictException>(() => _client.PutAsync("jobs/j/reduce/r00000.1/part-00000", [4, 5, 6]));
        Assert.Equal("blob jobs/j/reduce/r00000.1/part-00000 already exists with other bytes; a blob is written once", e.Message);
        Assert.Equal([1, 2, 3], await _client.GetBytesAsync("jobs/j/reduce/r00000.1/part-00000"));
    }

    [Fact]
    public async Task A_write_into_an_ended_jobs_folder_is_refused_with_the_stores_message_and_leaves_nothing()
    {
        await JobFence.EndAsync(_store, "j");
        var e = await Assert.ThrowsAsync<KvStoreJobEndedException>(() => _client.PutAsync("jobs/j/reduce/r00000.2/part-00000", [1, 2, 3]));
        Assert.Equal("job j has ended; this attempt's output is discarded (jobs/j/reduce/r00000.2/part-00000 was not kept)", e.Message);
        Assert.False(_store.Exists("jobs/j/reduce/r00000.2/part-00000"));
        Assert.Null(_store.ChecksumOf("jobs/j/reduce/r00000.2/part-00000"));
    }
}
