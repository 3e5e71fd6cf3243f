using System.Net.Sockets;

namespace MapReduce.Actors.BlobClients;

/// <summary>
/// A blob (or a byte range of one) streamed from the kvstore's data channel while its reader works
/// (a reduce merging runs as they arrive). Yields exactly the length the response announced and
/// fails with a <see cref="KvStoreException"/> when the body ends sooner or breaks; a read that
/// gets no byte for <c>idleLimit</c> fails too, while a slow reader never does (the limit runs per
/// read, not per transfer). Owns the response.
/// </summary>
internal sealed class RemoteBlobStream(HttpResponseMessage response, Stream body, string key, long length, TimeSpan idleLimit) : Stream
{
    private long _read;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // Synchronous readers (the merge runs on a thread of its own) wait on the async read, which carries the idle limit.
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length, 1 << 16));
        try
        {
            var n = ReadAsync(rented.AsMemory(0, Math.Min(buffer.Length, rented.Length))).AsTask().GetAwaiter().GetResult();
            rented.AsSpan(0, n).CopyTo(buffer);
            return n;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var wanted = (int)Math.Min(buffer.Length, length - _read);
        if (wanted == 0) return 0;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
        idle.CancelAfter(idleLimit);
        int n;
        try
        {
            n = await body.ReadAsync(buffer[..wanted], idle.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new KvStoreUnreachableException($"the kvstore sent nothing of {key} for {idleLimit.TotalSeconds:0} s");
        }
        catch (IOException e) when (e is HttpIOException || e.InnerException is SocketException)
        {
            throw new KvStoreUnreachableException($"reading {key} from the kvstore failed: {e.Message}");
        }
        if (n == 0) throw new KvStoreException($"download of {key} was cut short: {_read} of {length} bytes");
        _read += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            body.Dispose();
            response.Dispose();
        }
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
