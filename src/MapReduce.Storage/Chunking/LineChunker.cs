namespace MapReduce.Storage.Chunking;

/// <summary>One chunk of a file: <see cref="Length"/> bytes from <see cref="Offset"/>.</summary>
public readonly record struct ChunkRange(long Offset, long Length);

/// <summary>
/// Cuts a file into chunks of at most <c>blockSize</c> bytes that end at a line end ('\n'), so no
/// line (and so no word, and no multi-byte UTF-8 character, since 0x0A never occurs inside one) is
/// ever split. A line longer than the block becomes one chunk of its own, longer than the block.
/// The last chunk may lack a final '\n'. An empty input yields no chunk.
/// </summary>
/// <remarks>
/// Only the bytes just before each cut are read (backwards from the block's end to its last
/// '\n'), not the whole file: the chunks are then copied as byte ranges, which on one machine the
/// kernel does without the bytes ever entering this process.
/// </remarks>
public static class LineChunker
{
    public const int DefaultBlockSize = 1 << 20;
    private const int ProbeSize = 1 << 16;

    /// <summary>The chunks of a seekable <paramref name="input"/> from its current position to its end.</summary>
    public static IEnumerable<ChunkRange> Cuts(Stream input, int blockSize = DefaultBlockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        var end = input.Length;
        var position = input.Position;
        byte[]? probe = null;
        while (end - position > blockSize)
        {
            probe ??= new byte[Math.Min(ProbeSize, blockSize)]; // only for a file longer than a block
            var cut = LastLineEnd(input, position, position + blockSize, probe) ?? NextLineEnd(input, position + blockSize, end, probe);
            yield return new ChunkRange(position, cut - position);
            position = cut;
        }
        if (end > position) yield return new ChunkRange(position, end - position);
    }

    /// <summary>The offset just past the last '\n' in [from, to), or null when there is none.</summary>
    private static long? LastLineEnd(Stream input, long from, long to, byte[] probe)
    {
        for (var windowEnd = to; windowEnd > from;)
        {
            var windowStart = Math.Max(from, windowEnd - probe.Length);
            var window = probe.AsSpan(0, (int)(windowEnd - windowStart));
            ReadAt(input, windowStart, window);
            var index = window.LastIndexOf((byte)'\n');
            if (index >= 0) return windowStart + index + 1;
            windowEnd = windowStart;
        }
        return null;
    }

    /// <summary>The offset just past the first '\n' at or after <paramref name="from"/>, or the end: a line longer than the block ends there.</summary>
    private static long NextLineEnd(Stream input, long from, long end, byte[] probe)
    {
        for (var windowStart = from; windowStart < end;)
        {
            var window = probe.AsSpan(0, (int)Math.Min(probe.Length, end - windowStart));
            ReadAt(input, windowStart, window);
            var index = window.IndexOf((byte)'\n');
            if (index >= 0) return windowStart + index + 1;
            windowStart += window.Length;
        }
        return end;
    }

    private static void ReadAt(Stream input, long offset, Span<byte> target)
    {
        input.Position = offset;
        input.ReadExactly(target);
    }
}
