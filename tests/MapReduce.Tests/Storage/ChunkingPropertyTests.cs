using System.Text;
using CsCheck;
using MapReduce.Storage.Chunking;

namespace MapReduce.Tests.Storage;

/// <summary>
/// Random inputs (CsCheck, shrunk to a smallest failing case) for the line chunker and the text
/// check: no input crashes them, chunks cover the file exactly and end at line ends, and the check
/// agrees with .NET's own strict UTF-8 decoder and with lines counted here by splitting.
/// </summary>
public class ChunkingPropertyTests
{
    /// <summary>Bytes with many line ends and multi-byte characters in them, and anything else.</summary>
    private static readonly Gen<byte[]> Bytes = Gen.Frequency(
        (3, (IGen<byte>)Gen.Byte),
        (2, (IGen<byte>)Gen.Const((byte)'\n')),
        (1, (IGen<byte>)Gen.OneOf((byte)0xC3, (byte)0xA9, (byte)0xE2, (byte)0x82, (byte)0xAC, (byte)0xF0, (byte)0x9D, (byte)0x84, (byte)0x9E))).Array[0, 400];

    /// <summary>Valid UTF-8 text of short and long lines.</summary>
    private static readonly Gen<string> Text = Gen.OneOf("a", "word ", "\n", "\n", "é", "€", "𝄞", "naïve ", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx").Array[0, 120].Select(string.Concat);

    [Fact]
    public void Chunks_cover_any_input_exactly_and_end_at_line_ends_cut_at_the_last_line_end_within_the_block()
    {
        Gen.Select(Bytes, Gen.Int[1, 80], Gen.Int[0, 3]).Sample((input, blockSize, start) =>
        {
            start = Math.Min(start, input.Length);
            var ranges = LineChunker.Cuts(new MemoryStream(input) { Position = start }, blockSize).ToList();

            var position = (long)start;
            foreach (var range in ranges)
            {
                Assert.Equal(position, range.Offset);
                Assert.True(range.Length > 0, "an empty chunk");
                position += range.Length;
            }
            Assert.Equal(input.Length, position);
            for (var i = 0; i < ranges.Count; i++)
            {
                var chunk = input.AsSpan((int)ranges[i].Offset, (int)ranges[i].Length);
                var last = i == ranges.Count - 1;
                if (!last) Assert.Equal((byte)'\n', chunk[^1]);
                // Longer than the block only when it is one line (a line is never split).
                if (chunk.Length > blockSize) Assert.True(chunk[..^1].IndexOf((byte)'\n') < 0, $"chunk {i} of {chunk.Length} bytes holds several lines");
                // Cut at the last line end within the block: the next line would not have fitted.
                if (!last && chunk.Length <= blockSize)
                {
                    var rest = input.AsSpan((int)(ranges[i].Offset + ranges[i].Length));
                    var nextLine = rest.IndexOf((byte)'\n') is var n and >= 0 ? n + 1 : rest.Length;
                    Assert.True(chunk.Length + nextLine > blockSize, $"chunk {i} stops before a line that fits");
                }
            }
        }, iter: 3000);
    }

    [Fact]
    public void The_text_check_accepts_exactly_what_a_strict_decoder_accepts_and_names_its_offset_however_the_text_is_cut()
    {
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        Gen.Select(Bytes, Gen.Int[1, 50]).Sample((input, piece) =>
        {
            long? expected = null;
            try { strict.GetString(input); }
            catch (DecoderFallbackException e) { expected = e.Index; }

            var check = new Utf8TextCheck(long.MaxValue);
            long? found = null;
            try
            {
                for (var at = 0; at < input.Length; at += piece) check.Write(input.AsSpan(at, Math.Min(piece, input.Length - at)));
                check.Complete();
            }
            catch (InvalidUtf8Exception e) { found = e.Offset; }
            Assert.Equal(expected, found);
            if (found is null) Assert.Equal(input.Count(b => b == '\n'), check.Newlines);
        }, iter: 3000);
    }

    [Fact]
    public void The_text_check_refuses_the_first_line_longer_than_the_limit_and_no_other()
    {
        Gen.Select(Text, Gen.Int[0, 40], Gen.Int[1, 30]).Sample((text, limit, piece) =>
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            var lines = text.Split('\n').Select(l => Encoding.UTF8.GetByteCount(l)).ToList();
            var firstTooLong = lines.FindIndex(length => length > limit);

            var check = new Utf8TextCheck(limit);
            long? refused = null;
            try
            {
                for (var at = 0; at < bytes.Length; at += piece) check.Write(bytes.AsSpan(at, Math.Min(piece, bytes.Length - at)));
                check.Complete();
            }
            catch (LineTooLongException e) { refused = e.Line; }
            Assert.Equal(firstTooLong < 0 ? null : firstTooLong + 1, refused);
        }, iter: 3000);
    }

    /// <summary>Pieces of files as editors and tools write them: Windows and old Mac line ends, no final line end, a byte order mark, invalid UTF-8, lines longer than the chunker's 64 KiB look-back window.</summary>
    private static readonly Gen<byte[]> FileBytes = Gen.Frequency(
        (6, (IGen<byte[]>)Gen.OneOf("\r\n"u8.ToArray(), "\r"u8.ToArray(), "\n"u8.ToArray(), "word "u8.ToArray(), "é"u8.ToArray(), "𝄞"u8.ToArray(), [0xFF], [0xC3], [0])),
        (1, (IGen<byte[]>)Gen.Int[1, 150_000].Select(n => Enumerable.Repeat((byte)'x', n).ToArray()))).Array[0, 40]
        .Select(Gen.Bool, (pieces, bom) => (bom ? [0xEF, 0xBB, 0xBF] : Array.Empty<byte>()).Concat(pieces.SelectMany(p => p)).ToArray());

    [Fact]
    public void A_file_of_any_line_ends_and_bytes_is_cut_into_chunks_that_cover_it_past_its_byte_order_mark_and_split_no_line()
    {
        using var folder = new MapReduce.Tests.Support.TempFolder();
        Gen.Select(FileBytes, Gen.Frequency((1, (IGen<int>)Gen.Int[1, 100]), (2, (IGen<int>)Gen.Int[60_000, 300_000]))).Sample((bytes, blockSize) =>
        {
            var path = folder.File("input.txt");
            File.WriteAllBytes(path, bytes);
            using var text = InputFolder.OpenText(new InputDocument("input.txt", path, bytes.Length));
            var ranges = LineChunker.Cuts(text, blockSize).ToList();

            var start = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
            var position = (long)start; // in order, back to back, to the end
            foreach (var range in ranges)
            {
                Assert.Equal(position, range.Offset);
                Assert.True(range.Length > 0, "an empty chunk");
                position += range.Length;
            }
            Assert.Equal(bytes.Length, position);
            for (var i = 0; i < ranges.Count - 1; i++)
            {
                var chunk = bytes.AsSpan((int)ranges[i].Offset, (int)ranges[i].Length);
                Assert.Equal((byte)'\n', chunk[^1]); // so a \r\n is never cut in two
                if (chunk.Length > blockSize) Assert.True(chunk[..^1].IndexOf((byte)'\n') < 0, $"chunk {i} of {chunk.Length} bytes holds several lines");
            }
        }, iter: 30, threads: 1);
    }
}
