using System.Net;
using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.KvStore;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Catalog;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.KvStore;

/// <summary>
/// The kvstore's HTTP data channel, end to end: a real Kestrel on 127.0.0.1, a one-node cluster
/// with the kvstore actor (so <see cref="BlobClient"/> finds the server the way nodes do), real
/// files. A client in this process sees the store's folder, so the tests that take
/// <c>shortCircuit</c> check that the direct file path and HTTP behave the same.
/// </summary>
public sealed class BlobHttpTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private static readonly Config OneNodeCluster = ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.cluster.roles = [kvstore]
        akka.cluster.log-info = off
        """);

    private readonly TempFolder _folder = new();
    private readonly LocalBlobStore _blobs;
    private BlobHttpServer? _server;

    public BlobHttpTests() : base(OneNodeCluster) => _blobs = new LocalBlobStore(_folder.File("kvstore"));

    private BlobHttpServer Server => _server ?? throw new InvalidOperationException("server not started");

    public async Task InitializeAsync()
    {
        _server = await BlobHttpServer.StartAsync(_blobs, "127.0.0.1", 0);
        var up = new TaskCompletionSource();
        var cluster = Cluster.Get(Sys);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        cluster.Join(cluster.SelfAddress);
        await up.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _blobs.Dispose();
        _folder.Dispose();
    }

    /// <summary>Starts the kvstore actor, advertising <paramref name="dataUrl"/> (the real server unless a test fakes one).</summary>
    private BlobClient NewClient(string? dataUrl = null, bool shortCircuit = false)
    {
        var catalog = new CatalogStore(SqlLocation.SqliteFile(_folder.File("catalog.db")));
        catalog.EnsureCreated();
        Sys.ActorOf(KvStoreActor.Props(_blobs, catalog, dataUrl ?? Server.BaseUrl.ToString()), "kvstore");
        return new BlobClient(new KvStoreLocator(Sys), message => Akka.Event.LoggingExtensions.Info(Sys.Log, message), shortCircuit);
    }

    private static byte[] RandomBytes(int count)
    {
        var data = new byte[count];
        new Random(7).NextBytes(data);
        return data;
    }

    [Fact]
    public async Task A_put_on_a_full_disk_answers_507_keeps_nothing_and_the_client_hears_kvstore_disk_full()
    {
        // The data channel of a store whose disk takes 64 KiB more per blob; the kvstore actor advertises it.
        await using var full = await BlobHttpServer.StartAsync(new OutOfSpaceBlobStore(_blobs, 64 << 10), "127.0.0.1", 0);
        var client = NewClient(dataUrl: full.BaseUrl.ToString());
        var data = RandomBytes(256 << 10);

        var e = await Assert.ThrowsAsync<KvStoreDiskFullException>(() => client.PutAsync("jobs/j/map/m00000.1/p00000", data));
        Assert.Equal($"kvstore disk full: cannot store jobs/j/map/m00000.1/p00000: no space left in {_blobs.Location}", e.Message);
        Assert.False(_blobs.Exists("jobs/j/map/m00000.1/p00000"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_blobs.Root, "incoming")));
        // What fits is stored as usual.
        Assert.Equal(1000, await client.PutAsync("jobs/j/map/m00000.1/p00001", RandomBytes(1000)));
        Assert.Equal(RandomBytes(1000), await client.GetBytesAsync("jobs/j/map/m00000.1/p00001"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_10_MB_blob_round_trips_byte_exact(bool shortCircuit)
    {
        var client = NewClient(shortCircuit: shortCircuit);
        Assert.Equal(shortCircuit, await client.IsShortCircuitAsync());
        var data = RandomBytes(10 << 20);
        var source = _folder.File("source.bin");
        await File.WriteAllBytesAsync(source, data);

        Assert.Equal(data.Length, await client.PutFileAsync("runs/exec-1/part-3", source));
        Assert.True(_blobs.Exists("runs/exec-1/part-3"));
        var target = _folder.File("target.bin");
        Assert.Equal(data.Length, await client.GetToFileAsync("runs/exec-1/part-3", target));
        Assert.Equal(data, await File.ReadAllBytesAsync(target));
        Assert.False(File.Exists(target + ".part"));

        Assert.Equal(data.Length, await client.PutAsync("bytes/blob", data));
        Assert.Equal(data, await client.GetBytesAsync("bytes/blob"));
        // An empty blob is a blob too.
        Assert.Equal(0, await client.PutAsync("bytes/empty", []));
        Assert.Empty(await client.GetBytesAsync("bytes/empty"));
    }

    /// <summary>A blob with a flipped byte, then one cut short, in the kvstore's folder: every way of reading it fails saying so, and a download leaves no file.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_corrupt_blob_fails_every_read_with_its_key_and_a_download_leaves_no_file(bool shortCircuit)
    {
        const string key = "jobs/j/reduce/r00000.1/part-00000";
        var client = NewClient(shortCircuit: shortCircuit);
        var data = RandomBytes((2 << 20) + 5);
        await client.PutAsync(key, data);
        var path = _blobs.PathOf(key);
        var flipped = (byte[])data.Clone();
        flipped[1 << 20] ^= 0x10;
        await File.WriteAllBytesAsync(path, flipped);

        var whole = await Assert.ThrowsAsync<BlobCorruptException>(() => client.GetBytesAsync(key));
        Assert.StartsWith($"blob {key} is corrupt: checksum mismatch (xxh3 ", whole.Message);
        await using (var blob = await client.OpenReadAsync(key))
            await Assert.ThrowsAsync<BlobCorruptException>(() => blob.Content.CopyToAsync(Stream.Null));
        var target = _folder.File("part-00000");
        await Assert.ThrowsAsync<BlobCorruptException>(() => client.GetToFileAsync(key, target));
        Assert.False(File.Exists(target));
        Assert.False(File.Exists(target + ".part"));
        // A range is not checked (only a whole blob has a checksum): sampling reads one.
        await using (var range = await client.OpenReadAsync(key, 0, 100)) await range.Content.CopyToAsync(Stream.Null);

        await File.WriteAllBytesAsync(path, data[..^1]);
        var cut = await Assert.ThrowsAsync<BlobCorruptException>(() => client.GetBytesAsync(key));
        Assert.Equal($"blob {key} is corrupt: {data.Length - 1} bytes where {data.Length} were stored", cut.Message);

        await File.WriteAllBytesAsync(path, data);
        Assert.Equal(data, await client.GetBytesAsync(key));

        // A blob stored by a build before checksums has no sidecar: every way of reading it works, unverified (a flipped byte passes).
        File.Delete(Path.Combine(_blobs.Root, "checksums", "jobs", "j", "reduce", "r00000.1", "part-00000"));
        Assert.Null(_blobs.ChecksumOf(key));
        await File.WriteAllBytesAsync(path, flipped);
        Assert.Equal(flipped, await client.GetBytesAsync(key));
        await using (var blob = await client.OpenReadAsync(key))
        {
            var read = new MemoryStream();
            await blob.Content.CopyToAsync(read);
            Assert.Equal(flipped, read.ToArray());
        }
        await client.GetToFileAsync(key, target);
        Assert.Equal(flipped, await File.ReadAllBytesAsync(target));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_range_of_a_file_is_stored_exactly_and_a_file_that_changed_is_refused(bool shortCircuit)
    {
        var client = NewClient(shortCircuit: shortCircuit);
        var data = RandomBytes(3 << 20);
        var source = _folder.File("input.txt");
        await File.WriteAllBytesAsync(source, data);

        Assert.Equal(1 << 20, await client.PutFileRangeAsync("data/d/1", source, 1 << 20, 1 << 20));
        Assert.Equal(data.AsSpan(1 << 20, 1 << 20).ToArray(), await client.GetBytesAsync("data/d/1"));
        Assert.Equal(data.Length, await client.PutFileRangeAsync("data/d/all", source, 0, data.Length));
        Assert.Equal(data, await client.GetBytesAsync("data/d/all"));

        // The file lost its last bytes since it was cut: nothing is stored under the key.
        var e = await Assert.ThrowsAsync<SourceChangedException>(() => client.PutFileRangeAsync("data/d/2", source, 2 << 20, (1 << 20) + 5));
        Assert.Equal($"'{source}' changed while it was stored: expected {(1 << 20) + 5} bytes from offset {2 << 20}, found {1 << 20}", e.Message);
        Assert.False(_blobs.Exists("data/d/2"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_blobs.Root, "incoming")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_blob_or_a_range_of_it_is_read_as_a_stream_of_exactly_its_bytes(bool shortCircuit)
    {
        var client = NewClient(shortCircuit: shortCircuit);
        var data = RandomBytes((3 << 20) + 17);
        await client.PutAsync("jobs/j/map/m00000.1/p00000", data);

        async Task<byte[]> Read(long offset, long? length, long expectedLength)
        {
            await using var blob = await client.OpenReadAsync("jobs/j/map/m00000.1/p00000", offset, length);
            Assert.Equal(expectedLength, blob.Length);
            using var copy = new MemoryStream();
            await blob.Content.CopyToAsync(copy);
            return copy.ToArray();
        }

        Assert.Equal(data, await Read(0, null, data.Length));
        Assert.Equal(data.AsSpan(1 << 20).ToArray(), await Read(1 << 20, null, data.Length - (1 << 20)));
        Assert.Equal(data.AsSpan(5, 100_000).ToArray(), await Read(5, 100_000, 100_000));
        // A range past the end is cut at it.
        Assert.Equal(data.AsSpan(data.Length - 10).ToArray(), await Read(data.Length - 10, 1000, 10));
        Assert.Empty(await Read(data.Length, 10, 0));
        // Read synchronously too, as the reduce's merge reads.
        await using (var blob = await client.OpenReadAsync("jobs/j/map/m00000.1/p00000", 7, 3))
        {
            var three = new byte[8];
            Assert.Equal(3, blob.Content.ReadAtLeast(three, 8, throwOnEndOfStream: false));
            Assert.Equal(data.AsSpan(7, 3).ToArray(), three[..3]);
        }
        var missing = await Assert.ThrowsAsync<KvStoreException>(() => client.OpenReadAsync("jobs/j/map/none"));
        Assert.Equal("blob jobs/j/map/none does not exist in the kvstore", missing.Message);
    }

    [Fact]
    public async Task A_client_that_does_not_find_the_advertised_store_id_in_the_folder_uses_http()
    {
        var client = NewClient(shortCircuit: true);
        // As a process on another machine would: the folder at that path is not this store.
        await File.WriteAllTextAsync(Path.Combine(_blobs.Root, "store-id"), "another-store");

        Assert.False(await client.IsShortCircuitAsync());
        Assert.Equal(3, await client.PutAsync("over/http", [1, 2, 3]));
        Assert.Equal([1, 2, 3], await client.GetBytesAsync("over/http"));
        Assert.Null(LocalBlobStore.TryAttach("relative/path", _blobs.StoreId));
        Assert.Null(LocalBlobStore.TryAttach(_folder.File("nowhere"), _blobs.StoreId));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Getting_a_missing_blob_fails_with_the_kvstore_message_and_leaves_no_file(bool shortCircuit)
    {
        var client = NewClient(shortCircuit: shortCircuit);
        var e = await Assert.ThrowsAsync<KvStoreException>(() => client.GetBytesAsync("no/such/blob"));
        Assert.Equal("blob no/such/blob does not exist in the kvstore", e.Message);

        var target = _folder.File("missing.bin");
        e = await Assert.ThrowsAsync<KvStoreException>(() => client.GetToFileAsync("no/such/blob", target));
        Assert.Equal("blob no/such/blob does not exist in the kvstore", e.Message);
        Assert.False(File.Exists(target));
        Assert.False(File.Exists(target + ".part"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_key_that_escapes_the_store_is_refused_and_nothing_is_written(bool shortCircuit)
    {
        var client = NewClient(shortCircuit: shortCircuit);
        var expected = BlobKey.Problem("../escape");
        Assert.NotNull(expected);

        var e = await Assert.ThrowsAsync<KvStoreException>(() => client.PutAsync("../escape", Encoding.UTF8.GetBytes("gotcha")));
        Assert.Equal(expected, e.Message);

        // The same at the HTTP level, the key escaped as a client would send it.
        using var http = new HttpClient();
        using var response = await http.PutAsync(new Uri(Server.BaseUrl, "blobs/..%2Fescape"), new ByteArrayContent([1, 2, 3]));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());

        Assert.Empty(Directory.EnumerateFiles(_folder.Path, "escape*", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_blobs.Root, "incoming")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_blobs.Root, "blobs")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_blob_is_written_once_and_a_retry_with_the_same_bytes_is_accepted(bool shortCircuit)
    {
        var client = NewClient(shortCircuit: shortCircuit);
        await client.PutAsync("jobs/j/map/m00000.1/p00000", [1, 2, 3]);
        Assert.Equal(3, await client.PutAsync("jobs/j/map/m00000.1/p00000", [1, 2, 3]));

        var e = await Assert.ThrowsAsync<KvStoreConflictException>(() => client.PutAsync("jobs/j/map/m00000.1/p00000", [6, 6, 6]));
        Assert.Equal("blob jobs/j/map/m00000.1/p00000 already exists with other bytes; a blob is written once", e.Message);
        Assert.Equal([1, 2, 3], _blobs.ReadAll("jobs/j/map/m00000.1/p00000"));
    }

    /// <summary>The fence over both ways in: the data channel answers 410 Gone, the short circuit refuses the same; either way the client hears why and nothing stays.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_write_into_an_ended_jobs_folder_is_refused_as_such_and_leaves_nothing(bool shortCircuit)
    {
        var client = NewClient(shortCircuit: shortCircuit);
        Assert.Equal(shortCircuit, await client.IsShortCircuitAsync());
        await client.PutAsync("jobs/job-2/map/m00000.1/p00000", [1]); // a running job's
        await JobFence.EndAsync(_blobs, "job-1");
        var part = _folder.File("part");
        await File.WriteAllBytesAsync(part, RandomBytes(1000));

        var put = await Assert.ThrowsAsync<KvStoreJobEndedException>(() => client.PutAsync("jobs/job-1/map/m00000.2/p00000", [1, 2, 3]));
        Assert.Equal("job job-1 has ended; this attempt's output is discarded (jobs/job-1/map/m00000.2/p00000 was not kept)", put.Message);
        var owned = await Assert.ThrowsAsync<KvStoreJobEndedException>(() => client.PutOwnedFileAsync("jobs/job-1/reduce/r00000.2/part-00000", part));
        Assert.Equal("job job-1 has ended; this attempt's output is discarded (jobs/job-1/reduce/r00000.2/part-00000 was not kept)", owned.Message);

        Assert.False(Directory.Exists(Path.Combine(_blobs.Root, "blobs", "jobs", "job-1")));
        Assert.False(Directory.Exists(Path.Combine(_blobs.Root, "checksums", "jobs", "job-1")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_blobs.Root, "incoming")));
        Assert.Equal([1], await client.GetBytesAsync("jobs/job-2/map/m00000.1/p00000"));
    }

    [Fact]
    public async Task A_script_that_does_not_hash_to_its_code_id_is_refused_over_http_with_409()
    {
        NewClient();
        var script = Encoding.UTF8.GetBytes("int Reduce(string k, IEnumerable<int> v) => v.Sum();");
        var id = CodeBlob.IdOf(script);
        using var http = new HttpClient();
        using (var stored = await http.PutAsync(new Uri(Server.BaseUrl, $"blobs/code%2F{id}%2Ftask.csx"), new ByteArrayContent(script)))
            Assert.Equal(HttpStatusCode.OK, stored.StatusCode);

        // Whoever reaches the data channel cannot swap the script a printed code id names.
        var evil = Encoding.UTF8.GetBytes("System.Diagnostics.Process.Start(\"sh\");");
        using var response = await http.PutAsync(new Uri(Server.BaseUrl, $"blobs/code%2F{id}%2Ftask.csx"), new ByteArrayContent(evil));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal($"code/{id}/task.csx must hold the script whose SHA-256 gives its id, but these bytes give {CodeBlob.IdOf(evil)}",
            await response.Content.ReadAsStringAsync());
        Assert.Equal(script, _blobs.ReadAll($"code/{id}/task.csx"));
    }

    [Fact]
    public async Task An_upload_cut_short_publishes_nothing_and_leaves_no_temp_file()
    {
        var incoming = Path.Combine(_blobs.Root, "incoming");
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(IPAddress.Loopback, Server.BaseUrl.Port);
            var head = "PUT /blobs/cut/short HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(head));
            await socket.SendAsync(RandomBytes(10));
            // The server is streaming into a temp file once one shows up.
            await Eventually(() => Directory.EnumerateFiles(incoming).Any());
            socket.LingerState = new LingerOption(true, 0); // close with a reset: the client is gone, not done
        }

        await Eventually(() => !Directory.EnumerateFiles(incoming).Any());
        Assert.False(_blobs.Exists("cut/short"));
    }

    [Fact]
    public async Task A_download_cut_short_throws_and_leaves_no_half_file()
    {
        // A fake data server that promises 1000 bytes and sends 10.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var fake = Task.Run(async () =>
        {
            for (var i = 0; i < 2; i++)
            {
                using var connection = await listener.AcceptSocketAsync();
                var buffer = new byte[4096];
                var request = "";
                while (!request.Contains("\r\n\r\n")) request += Encoding.ASCII.GetString(buffer, 0, await connection.ReceiveAsync(buffer));
                await connection.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789"));
                connection.Shutdown(SocketShutdown.Both);
            }
        });
        var client = NewClient($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");

        var target = _folder.File("half.bin");
        // Cut short, or broken off mid-body: either way a kvstore failure (the latter one to ask again about).
        var e = await Assert.ThrowsAnyAsync<KvStoreException>(() => client.GetToFileAsync("some/blob", target));
        Assert.Contains("some/blob", e.Message);
        Assert.False(File.Exists(target));
        Assert.False(File.Exists(target + ".part"));

        await Assert.ThrowsAnyAsync<KvStoreException>(() => client.GetBytesAsync("some/blob"));
        await fake.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_kvstore_that_cannot_be_reached_is_reported_with_its_address()
    {
        var client = NewClient();
        var url = Server.BaseUrl;
        await Server.DisposeAsync();
        _server = null;

        // Unreachable, not refused: a worker waits and asks again (WaitingBlobClient).
        var e = await Assert.ThrowsAsync<KvStoreUnreachableException>(() => client.GetBytesAsync("any/blob"));
        Assert.StartsWith($"kvstore at {url} is unreachable: ", e.Message);
    }

    /// <summary>Polls for an outcome of real I/O (the server's temp file on disk, a socket's reset): not a wait for time to pass.</summary>
    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met within 10 s");
            await Task.Delay(50);
        }
    }
}
