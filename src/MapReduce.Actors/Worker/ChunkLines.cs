using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Protocol;

namespace MapReduce.Actors.Worker;

/// <summary>
/// Where a chunk's lines are in its document. Chunks do not record it; an attempt that maps a later
/// chunk line by line (a job that skips bad records, after a failure) counts the line ends of the
/// document's earlier chunks, so the lines it names are the document's own line numbers.
/// </summary>
public static class ChunkLines
{
    /// <summary>The line, numbered in its chunk and, when <paramref name="linesBefore"/> is known, in its document.</summary>
    public static InputLine Line(MapChunk chunk, long line, long? linesBefore) =>
        new(chunk.DocId, chunk.ChunkIndex, line) { DocumentLine = chunk.ChunkIndex > 0 && linesBefore is { } before ? before + line : null };

    /// <summary>
    /// Lines of the document before <paramref name="chunk"/>: the line ends in its earlier chunks,
    /// whose keys differ from its own only in the chunk number (<see cref="BlobKeys.Chunk"/>); every
    /// chunk but a document's last ends at a line end. Null when the key is not of that form.
    /// </summary>
    public static async Task<long?> CountBeforeAsync(IBlobClient blobs, MapChunk chunk, CancellationToken ct)
    {
        if (chunk.ChunkIndex == 0) return 0;
        if (KeyOf(chunk.ChunkKey, chunk.ChunkIndex, 0) is null) return null;
        long lines = 0;
        var buffer = new byte[1 << 16];
        for (var i = 0; i < chunk.ChunkIndex; i++)
        {
            using var blob = await blobs.OpenReadAsync(KeyOf(chunk.ChunkKey, chunk.ChunkIndex, i)!, ct: ct).ConfigureAwait(false);
            int read;
            while ((read = await blob.Content.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0) lines += buffer.AsSpan(0, read).Count((byte)'\n');
        }
        return lines;
    }

    /// <summary>The key of chunk <paramref name="other"/> of the same document: "…/DDDDDD-CCCCCC" plus the format's suffix.</summary>
    public static string? KeyOf(string key, int chunkIndex, int other)
    {
        var own = $"-{chunkIndex:D6}";
        var at = key.LastIndexOf('/') is var slash and >= 0 ? key.IndexOf(own, slash, StringComparison.Ordinal) : -1;
        return at < 0 ? null : string.Concat(key.AsSpan(0, at), $"-{other:D6}", key.AsSpan(at + own.Length));
    }
}
