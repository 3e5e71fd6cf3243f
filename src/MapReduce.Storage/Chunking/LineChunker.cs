namespace MapReduce.Storage.Chunking;

/// <summary>
/// Cuts a byte stream into chunks of at most <c>blockSize</c> bytes that end at a line end ('\n'),
/// so no line (and so no word, and no multi-byte UTF-8 character, since 0x0A never occurs inside
/// one) is ever split. A line longer than the block becomes one chunk of its own, longer than the
/// block. The last chunk may lack a final '\n'. An empty stream yields no chunk.
/// </summary>
public static class LineChunker
{
    public const int DefaultBlockSize = 1 << 20;

    public static IEnumerable<byte[]> Chunks(Stream input, int blockSize = DefaultBlockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        var buffer = new byte[blockSize];
        var filled = 0;
        while (true)
        {
            filled += ReadFully(input, buffer.AsSpan(filled));
            if (filled == 0) yield break;
            if (filled < buffer.Length)
            {
                // End of input: whatever is left is the last chunk.
                yield return buffer.AsSpan(0, filled).ToArray();
                yield break;
            }
            var cut = buffer.AsSpan(0, filled).LastIndexOf((byte)'\n') + 1;
            if (cut == 0)
            {
                // No line end in a whole block: this line is longer than the block; keep reading to its end.
                yield return ReadLongLine(input, buffer, filled);
                filled = 0;
                continue;
            }
            yield return buffer.AsSpan(0, cut).ToArray();
            buffer.AsSpan(cut, filled - cut).CopyTo(buffer);
            filled -= cut;
        }
    }

    private static byte[] ReadLongLine(Stream input, byte[] head, int headLength)
    {
        using var line = new MemoryStream();
        line.Write(head, 0, headLength);
        int b;
        while ((b = input.ReadByte()) >= 0)
        {
            line.WriteByte((byte)b);
            if (b == '\n') break;
        }
        return line.ToArray();
    }

    private static int ReadFully(Stream input, Span<byte> target)
    {
        var total = 0;
        while (total < target.Length)
        {
            var n = input.Read(target[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
