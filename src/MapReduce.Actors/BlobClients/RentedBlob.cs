using System.Buffers;

namespace MapReduce.Actors.BlobClients;

/// <summary>
/// A blob's bytes in a buffer rented from <see cref="ArrayPool{T}.Shared"/>; disposing gives the
/// buffer back. Map tasks read their chunks this way: a fresh array per chunk, alive while the next
/// one is mapped, was promoted by the garbage collector (copied) on its way to becoming garbage.
/// </summary>
public sealed class RentedBlob(byte[] buffer, int length) : IDisposable
{
    private byte[]? _buffer = buffer;

    public ReadOnlySpan<byte> Span => (_buffer ?? throw new ObjectDisposedException(nameof(RentedBlob))).AsSpan(0, length);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } rented) ArrayPool<byte>.Shared.Return(rented);
    }
}
