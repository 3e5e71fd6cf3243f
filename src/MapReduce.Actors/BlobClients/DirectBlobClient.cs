using System.Buffers;
using MapReduce.Storage.Blobs;

namespace MapReduce.Actors.BlobClients;

/// <summary>
/// Reads and writes blobs straight in an object store (<c>mapreduce.blob-store.kind = s3</c>): a
/// worker's chunks, runs and outputs never pass through the kvstore, which keeps only the catalog.
/// Every write is the store's all-or-nothing put, so a process killed mid-upload leaves no blob.
/// </summary>
public sealed class DirectBlobClient(IBlobStore store, Action<string> log) : IBlobClient
{
    private const int PieceSize = 1 << 20;
    private int _announced;

    public Task<long> PutAsync(string key, byte[] data, CancellationToken ct = default) =>
        WithStoreAsync(key, async () =>
        {
            using var body = new MemoryStream(data, writable: false);
            return await store.PutAsync(key, body, data.Length, ct).ConfigureAwait(false);
        });

    public Task<long> PutFileAsync(string key, string path, CancellationToken ct = default) =>
        PutFileRangeAsync(key, path, 0, new FileInfo(path).Length, ct);

    public Task<long> PutFileRangeAsync(string key, string path, long offset, long length, CancellationToken ct = default) =>
        WithStoreAsync(key, async () =>
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
            if (file.Length < offset + length) throw new SourceChangedException(path, offset, length, Math.Max(0, file.Length - offset));
            file.Position = offset;
            return await store.PutAsync(key, file, length, ct).ConfigureAwait(false);
        });

    public Task<long> PutOwnedFileAsync(string key, string path, CancellationToken ct = default) => PutFileAsync(key, path, ct);

    public async Task<byte[]> GetBytesAsync(string key, CancellationToken ct = default) =>
        (await ReadAsync(key, length => new byte[length], ct).ConfigureAwait(false)).Buffer;

    public async Task<RentedBlob> GetRentedAsync(string key, CancellationToken ct = default)
    {
        var (buffer, length) = await ReadAsync(key, ArrayPool<byte>.Shared.Rent, ct).ConfigureAwait(false);
        return new RentedBlob(buffer, length);
    }

    private Task<(byte[] Buffer, int Length)> ReadAsync(string key, Func<int, byte[]> allocate, CancellationToken ct) =>
        WithStoreAsync(key, async () =>
        {
            await using var blob = await OpenAsync(key, ct).ConfigureAwait(false);
            if (blob.Length > Array.MaxLength) throw new KvStoreException($"blob {key} has {blob.Length} bytes, too many to hold in memory");
            var length = (int)blob.Length;
            var buffer = allocate(length);
            var filled = await blob.Content.ReadAtLeastAsync(buffer.AsMemory(0, length), length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
            if (filled < length) throw CutShort(key, filled, length);
            return (buffer, length);
        });

    public Task<long> GetToFileAsync(string key, string path, CancellationToken ct = default) =>
        WithStoreAsync(key, async () =>
        {
            await using var blob = await OpenAsync(key, ct).ConfigureAwait(false);
            var temp = path + ".part";
            try
            {
                long copied = 0;
                await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous))
                {
                    var buffer = ArrayPool<byte>.Shared.Rent(PieceSize);
                    try
                    {
                        int read;
                        while ((read = await blob.Content.ReadAtLeastAsync(buffer.AsMemory(0, PieceSize), PieceSize, throwOnEndOfStream: false, ct).ConfigureAwait(false)) > 0)
                        {
                            await file.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                            copied += read;
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
                if (copied != blob.Length) throw CutShort(key, copied, blob.Length);
                File.Move(temp, path, overwrite: true);
                return copied;
            }
            catch
            {
                try { File.Delete(temp); } catch (IOException) { }
                throw;
            }
        });

    public Task<StoredBlob> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default) =>
        WithStoreAsync(key, async () =>
            await store.OpenReadAsync(key, offset, length, ct).ConfigureAwait(false) ?? throw new KvStoreException($"blob {key} does not exist in {store.Location}"));

    private async Task<StoredBlob> OpenAsync(string key, CancellationToken ct) =>
        await store.OpenReadAsync(key, ct).ConfigureAwait(false) ?? throw new KvStoreException($"blob {key} does not exist in {store.Location}");

    /// <summary>Logs once where blob bytes go, and turns the store's failures into <see cref="KvStoreException"/>s (callers catch those).</summary>
    private async Task<T> WithStoreAsync<T>(string key, Func<Task<T>> action)
    {
        if (Interlocked.Exchange(ref _announced, 1) == 0) log($"blob bytes go straight to {store.Location}");
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (InvalidBlobKeyException e)
        {
            throw new KvStoreException(e.Message);
        }
        catch (BlobConflictException e)
        {
            throw new KvStoreConflictException(e.Message);
        }
        catch (JobEndedException e)
        {
            throw new KvStoreJobEndedException(e.Message);
        }
        catch (BlobStoreException e)
        {
            throw new KvStoreException(e.Message);
        }
        catch (IOException e) when (e is not SourceChangedException && e is not FileNotFoundException && e is not DirectoryNotFoundException && e is not BlobCorruptException)
        {
            // The connection broke mid-body.
            throw new KvStoreException($"transfer of {key} with {store.Location} failed: {e.Message}");
        }
    }

    private static KvStoreException CutShort(string key, long received, long expected) =>
        new($"download of {key} was cut short: {received} of {expected} bytes");
}
