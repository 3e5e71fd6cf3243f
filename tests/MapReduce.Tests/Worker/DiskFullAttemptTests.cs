using System.Text;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.UserCode;
using MapReduce.Actors.Worker;
using MapReduce.Storage.Blobs;
using MapReduce.Tests.Support;
using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Tests.Worker;

/// <summary>
/// An attempt that fails because a write found no space is a full disk, not a sign of a corrupt
/// input: it fails as such without reading its inputs through once more (as any other failure does,
/// to find a flipped byte). Real blobs and a real compile; the writes fail as a full disk fails them.
/// </summary>
public sealed class DiskFullAttemptTests : IDisposable
{
    private const string ChunkKey = "data/data-a/000000-000000";
    private readonly TempFolder _folder = new();
    private readonly LocalBlobStore _store;
    private readonly FullDiskBlobClient _blobs;
    private readonly TaskExecutor _executor;
    private readonly string _codeId;

    public DiskFullAttemptTests()
    {
        _store = new LocalBlobStore(_folder.File("kvstore"));
        _blobs = new FullDiskBlobClient(new DirectBlobClient(_store, _ => { }));
        _executor = new TaskExecutor(_blobs, new CompiledCodeCache(), Directory.CreateDirectory(_folder.File("scratch")).FullName,
            new ShuffleSettings(1 << 20, long.MaxValue, false, MergeFactor: 100), 2) { TextSliceBytes = 1 << 20 };
        _store.Put(ChunkKey, "a b a\n"u8.ToArray());
        var script = Encoding.UTF8.GetBytes("""
            IEnumerable<(string, int)> Map(string docId, string chunk) { foreach (var w in chunk.Split(' ', '\n', StringSplitOptions.RemoveEmptyEntries)) yield return (w, 1); }
            int Reduce(string key, IEnumerable<int> values) => values.Sum();
            """);
        _codeId = CodeBlob.IdOf(script);
        _store.Put(BlobKeys.Code(_codeId), script);
    }

    public void Dispose()
    {
        _store.Dispose();
        _folder.Dispose();
    }

    private WorkerProtocol.RunMapTask MapTask(int attempt) =>
        new(new AttemptId(new JobId("job-20261207-230000-abcdef"), TaskId.Map(0), attempt), _codeId, [new MapChunk("a.txt", 0, ChunkKey)], 2);

    [Fact]
    public async Task A_map_whose_run_write_finds_no_space_fails_as_a_full_disk_without_reading_its_chunk_again()
    {
        Assert.IsType<MapTaskSucceeded>(await _executor.RunMapAsync(MapTask(1)));
        var readsOfOneAttempt = _blobs.Reads(ChunkKey);
        Assert.True(readsOfOneAttempt > 0);

        _blobs.Full = true;
        var failed = Assert.IsType<TaskAttemptFailed>(await _executor.RunMapAsync(MapTask(2)));

        Assert.Equal(FailureKind.DiskFull, failed.Kind);
        Assert.StartsWith($"{TaskExecutor.ScratchDiskFull}: ", failed.Error);
        Assert.Equal(2 * readsOfOneAttempt, _blobs.Reads(ChunkKey));
    }

    [Fact]
    public async Task A_map_that_fails_otherwise_reads_its_chunk_through_once_more_to_look_for_a_flipped_byte()
    {
        Assert.IsType<MapTaskSucceeded>(await _executor.RunMapAsync(MapTask(1)));
        var readsOfOneAttempt = _blobs.Reads(ChunkKey);

        _blobs.Broken = true;
        var failed = Assert.IsType<TaskAttemptFailed>(await _executor.RunMapAsync(MapTask(2)));

        Assert.Equal(FailureKind.Infrastructure, failed.Kind);
        Assert.Equal(2 * readsOfOneAttempt + 1, _blobs.Reads(ChunkKey));
    }

    /// <summary>A real blob client that counts the reads of each key, and whose writes fail as a full disk (ENOSPC) or a broken one when told to.</summary>
    private sealed class FullDiskBlobClient(IBlobClient inner) : ForwardingBlobClient(inner)
    {
        private readonly Dictionary<string, int> _reads = new(StringComparer.Ordinal);

        public bool Full { get; set; }

        public bool Broken { get; set; }

        public int Reads(string key)
        {
            lock (_reads) return _reads.GetValueOrDefault(key);
        }

        private void Read(string key)
        {
            lock (_reads) _reads[key] = _reads.GetValueOrDefault(key) + 1;
        }

        private Task<long> Write(Func<Task<long>> write) =>
            Full ? throw new IOException("No space left on device", DiskFull.Enospc)
            : Broken ? throw new IOException("Input/output error", 5)
            : write();

        public override Task<long> PutAsync(string key, byte[] data, CancellationToken ct = default) => Write(() => base.PutAsync(key, data, ct));

        public override Task<long> PutFileAsync(string key, string path, CancellationToken ct = default) => Write(() => base.PutFileAsync(key, path, ct));

        public override Task<long> PutFileRangeAsync(string key, string path, long offset, long length, CancellationToken ct = default) =>
            Write(() => base.PutFileRangeAsync(key, path, offset, length, ct));

        public override Task<long> PutOwnedFileAsync(string key, string path, CancellationToken ct = default) => Write(() => base.PutOwnedFileAsync(key, path, ct));

        public override Task<byte[]> GetBytesAsync(string key, CancellationToken ct = default)
        {
            Read(key);
            return base.GetBytesAsync(key, ct);
        }

        public override Task<RentedBlob> GetRentedAsync(string key, CancellationToken ct = default)
        {
            Read(key);
            return base.GetRentedAsync(key, ct);
        }

        public override Task<StoredBlob> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default)
        {
            Read(key);
            return base.OpenReadAsync(key, offset, length, ct);
        }

        public override Task<long> GetToFileAsync(string key, string path, CancellationToken ct = default)
        {
            Read(key);
            return base.GetToFileAsync(key, path, ct);
        }
    }
}
