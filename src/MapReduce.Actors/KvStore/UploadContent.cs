using System.Buffers;
using System.Net;

namespace MapReduce.Actors.KvStore;

/// <summary>
/// A request body streamed from <paramref name="source"/> in 1 MiB pieces, each one resetting the
/// transfer's <see cref="IdleTimeout"/>. The source is rewound if the handler sends the body again
/// (it may retry on a pooled connection that the server had closed).
/// </summary>
internal sealed class UploadContent(Stream source, IdleTimeout idle) : HttpContent
{
    private const int PieceSize = 1 << 20;
    private readonly long _start = source.Position;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        source.Position = _start;
        var buffer = ArrayPool<byte>.Shared.Rent(PieceSize);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, PieceSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                idle.Touch();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = source.Length - _start;
        return true;
    }
}
