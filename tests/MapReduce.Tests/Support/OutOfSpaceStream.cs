using MapReduce.Storage.Blobs;

namespace MapReduce.Tests.Support;

/// <summary>
/// Reads <paramref name="inner"/>, and past <paramref name="room"/> bytes fails as a write to a full
/// disk does on Linux (IOException, HResult ENOSPC): a store copying from it is left with a partial file.
/// </summary>
public sealed class OutOfSpaceStream(Stream inner, long room) : Stream
{
    private long _read;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => inner.Length;
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_read >= room) throw new IOException("No space left on device", DiskFull.Enospc);
        var n = inner.Read(buffer, offset, (int)Math.Min(count, room - _read));
        _read += n;
        return n;
    }

    // Asynchronous too: a request body (Kestrel) refuses synchronous reads.
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (_read >= room) throw new IOException("No space left on device", DiskFull.Enospc);
        var n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, room - _read)], ct).ConfigureAwait(false);
        _read += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A blob store whose disk holds only <paramref name="room"/> more bytes per blob: every larger put fails as on a full disk, through the real store's own clean-up.</summary>
public sealed class OutOfSpaceBlobStore(LocalBlobStore inner, long room) : IBlobStore
{
    public string Location => inner.Location;
    public Task<bool> ExistsAsync(string key, CancellationToken ct = default) => inner.ExistsAsync(key, ct);
    public Task<long> PutAsync(string key, Stream data, long length, CancellationToken ct = default) => inner.PutAsync(key, new OutOfSpaceStream(data, room), length, ct);
    public Task<StoredBlob?> OpenReadAsync(string key, CancellationToken ct = default) => inner.OpenReadAsync(key, ct);
    public Task<StoredBlob?> OpenReadAsync(string key, long offset, long? length, CancellationToken ct = default) => inner.OpenReadAsync(key, offset, length, ct);
    public Task<(int Blobs, long Bytes)> DeleteAllAsync(IReadOnlyCollection<string> keys, CancellationToken ct = default) => inner.DeleteAllAsync(keys, ct);
    public Task<int> DeleteFolderAsync(string prefix, CancellationToken ct = default) => inner.DeleteFolderAsync(prefix, ct);
    public Task<int> SweepAbandonedAsync(TimeSpan idle, CancellationToken ct = default) => inner.SweepAbandonedAsync(idle, ct);
}
