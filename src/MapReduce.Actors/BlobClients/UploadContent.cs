using System.Buffers;
using System.Net;

namespace MapReduce.Actors.BlobClients;

/// <summary>
/// A request body of <paramref name="length"/> bytes streamed from <paramref name="source"/>'s
/// current position in 1 MiB pieces, each one resetting the transfer's <see cref="IdleTimeout"/>.
/// The source is rewound if the handler sends the body again (it may retry on a pooled connection
/// that the server had closed). A source that ends early leaves the body short, which the server rejects.
/// </summary>
internal sealed class UploadContent(Stream source, long length, IdleTimeout idle) : HttpContent
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
            for (var left = length; left > 0; left -= read)
            {
                read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(PieceSize, left)), cancellationToken).ConfigureAwait(false);
                if (read == 0) break;
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

    protected override bool TryComputeLength(out long bodyLength)
    {
        bodyLength = length;
        return true;
    }
}
