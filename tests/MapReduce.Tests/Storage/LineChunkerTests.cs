using System.Text;
using MapReduce.Storage.Chunking;

namespace MapReduce.Tests.Storage;

public class LineChunkerTests
{
    private static List<byte[]> Chunk(byte[] input, int blockSize, int start = 0)
    {
        var stream = new MemoryStream(input) { Position = start };
        var ranges = LineChunker.Cuts(stream, blockSize).ToList();
        // The ranges tile the input from the start position, in order, with no gap or overlap.
        Assert.Equal(input.Length - start, ranges.Sum(r => r.Length));
        Assert.All(ranges.Zip(ranges.Skip(1)), pair => Assert.Equal(pair.Item1.Offset + pair.Item1.Length, pair.Item2.Offset));
        return ranges.Select(r => input.AsSpan((int)r.Offset, (int)r.Length).ToArray()).ToList();
    }

    [Fact]
    public void Chunks_end_at_line_ends_and_rejoin_to_the_input()
    {
        var input = Encoding.UTF8.GetBytes("one two\nthree\nfour five six\nseven\n");
        var chunks = Chunk(input, 16);
        Assert.Equal(["one two\nthree\n", "four five six\n", "seven\n"], chunks.Select(c => Encoding.UTF8.GetString(c)));
        Assert.Equal(input, chunks.SelectMany(c => c).ToArray());
    }

    [Fact]
    public void An_empty_input_has_no_chunks() => Assert.Empty(Chunk([], 16));

    [Fact]
    public void A_line_longer_than_the_block_is_one_chunk_of_its_own()
    {
        var longLine = new string('x', 50) + "\n";
        var chunks = Chunk(Encoding.UTF8.GetBytes("ab\n" + longLine + "cd\n"), 16);
        Assert.Equal(["ab\n", longLine, "cd\n"], chunks.Select(c => Encoding.UTF8.GetString(c)));
    }

    [Fact]
    public void A_last_line_without_newline_is_kept()
    {
        var chunks = Chunk(Encoding.UTF8.GetBytes("abc\ndef"), 5);
        Assert.Equal(["abc\n", "def"], chunks.Select(c => Encoding.UTF8.GetString(c)));
    }

    [Fact]
    public void Multi_byte_characters_at_block_edges_are_never_split()
    {
        // Each line has 3-byte (€) and 4-byte (𝄞) characters; every block size cuts somewhere inside one.
        var text = string.Concat(Enumerable.Range(0, 40).Select(i => $"€{i}𝄞 naïve ü\n"));
        var input = Encoding.UTF8.GetBytes(text);
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        for (var blockSize = 1; blockSize < 40; blockSize++)
        {
            var chunks = Chunk(input, blockSize);
            Assert.Equal(text, string.Concat(chunks.Select(c => strict.GetString(c))));
            Assert.All(chunks.SkipLast(1), c => Assert.Equal((byte)'\n', c[^1]));
        }
    }

    [Fact]
    public void Chunking_starts_at_the_stream_position_so_a_byte_order_mark_is_left_out()
    {
        var input = Encoding.UTF8.GetBytes("\uFEFFab\ncd\nef\n");
        var chunks = Chunk(input, 6, start: 3);
        Assert.Equal(["ab\ncd\n", "ef\n"], chunks.Select(c => Encoding.UTF8.GetString(c)));
    }

    [Fact]
    public void A_line_end_far_before_the_block_end_is_found_across_probe_windows()
    {
        // The block is larger than one 64 KiB probe and its only '\n' is near its start.
        var input = Encoding.ASCII.GetBytes("a\n" + new string('x', 200_000) + "\n" + "tail");
        var chunks = Chunk(input, 150_000);
        Assert.Equal([2, 200_001, 4], chunks.Select(c => c.Length));
    }

    [Fact]
    public void No_chunk_exceeds_the_block_unless_it_is_a_single_line()
    {
        var random = new Random(7);
        var lines = Enumerable.Range(0, 500).Select(_ => new string('w', random.Next(0, 90)) + "\n");
        var input = Encoding.ASCII.GetBytes(string.Concat(lines));
        foreach (var chunk in Chunk(input, 64))
        {
            var newlines = chunk.Count(b => b == '\n');
            Assert.True(chunk.Length <= 64 || newlines == 1, $"chunk of {chunk.Length} bytes holds {newlines} lines");
        }
    }
}
