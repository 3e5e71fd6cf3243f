namespace MapReduce.Storage.Chunking;

/// <summary>
/// Cuts a CSV file into chunks of at most <c>blockSize</c> bytes that end at record ends, as
/// <see cref="LineChunker"/> cuts at line ends: a line break inside a quoted field is not a cut.
/// Whether a '\n' ends a record depends on every quote before it, so the whole file is read once,
/// front to back (unlike lines, which are cut by reading a few bytes before each cut). A record
/// longer than the block is a chunk of its own. Throws <see cref="CsvSyntaxException"/> at a
/// misplaced or unclosed quote.
/// </summary>
public static class CsvChunker
{
    private const int ReadSize = 1 << 16;

    /// <summary>The chunks of <paramref name="input"/> from its current position to its end.</summary>
    public static List<ChunkRange> Cuts(Stream input, int blockSize = LineChunker.DefaultBlockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        var cuts = new List<ChunkRange>();
        var syntax = new CsvSyntax();
        var buffer = new byte[ReadSize];
        long chunkStart = input.Position, lastEnd = chunkStart, position = chunkStart;
        int n;
        while ((n = input.Read(buffer, 0, buffer.Length)) > 0)
        {
            var at = position;
            syntax.Read(buffer.AsSpan(0, n), end => RecordEnd(at + end));
            position += n;
        }
        syntax.Complete();
        if (position > lastEnd) RecordEnd(position); // the last record, without a line end
        if (position > chunkStart) cuts.Add(new ChunkRange(chunkStart, position - chunkStart));
        return cuts;

        void RecordEnd(long end)
        {
            if (end - chunkStart > blockSize)
            {
                if (lastEnd > chunkStart)
                {
                    cuts.Add(new ChunkRange(chunkStart, lastEnd - chunkStart));
                    chunkStart = lastEnd;
                }
                if (end - chunkStart > blockSize)
                {
                    cuts.Add(new ChunkRange(chunkStart, end - chunkStart)); // a record longer than the block
                    chunkStart = end;
                }
            }
            lastEnd = end;
        }
    }
}
