using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using MapReduce.Storage.Chunking;

namespace MapReduce.Tests.Storage;

/// <summary>
/// CSV cut at record ends and read back, checked against CsvHelper (an independent RFC 4180
/// reader): the chunks rejoin to the file, none ends inside a quoted field, and the records read
/// chunk by chunk are CsvHelper's records of the whole file.
/// </summary>
public sealed class CsvChunkingTests
{
    private static readonly CsvConfiguration NoHeader = new(CultureInfo.InvariantCulture) { HasHeaderRecord = false };

    /// <summary>A CSV text with quoted fields holding commas, doubled quotes, line breaks (LF and CRLF) and empty fields.</summary>
    private static string Sample(int rows, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder("id,name,note\n");
        string[] notes = ["plain", "", "\"a, b\"", "\"say \"\"hi\"\"\"", "\"two\nlines\"", "\"three\r\nlines\nhere\"", "\"\"", "x y"];
        for (var i = 0; i < rows; i++)
            text.Append(CultureInfo.InvariantCulture, $"{i},{notes[random.Next(notes.Length)]},{notes[random.Next(notes.Length)]}{(random.Next(5) == 0 ? "\r\n" : "\n")}");
        return text.ToString();
    }

    private static List<string[]> CsvHelperRecords(string text)
    {
        using var reader = new CsvReader(new StringReader(text), NoHeader);
        var records = new List<string[]>();
        while (reader.Read()) records.Add(reader.Parser.Record!);
        return records;
    }

    [Theory]
    [InlineData(16)]
    [InlineData(100)]
    [InlineData(1024)]
    [InlineData(1 << 20)]
    public void Chunks_end_between_records_and_their_records_are_CsvHelpers(int blockSize)
    {
        var text = Sample(300, blockSize);
        var bytes = Encoding.UTF8.GetBytes(text);
        var cuts = CsvChunker.Cuts(new MemoryStream(bytes), blockSize);

        Assert.Equal(bytes.Length, cuts.Sum(c => c.Length));
        Assert.All(cuts.Zip(cuts.Skip(1)), pair => Assert.Equal(pair.Item1.Offset + pair.Item1.Length, pair.Item2.Offset));
        var records = new List<string[]>();
        foreach (var cut in cuts)
        {
            var chunk = Encoding.UTF8.GetString(bytes, (int)cut.Offset, (int)cut.Length);
            // Each chunk alone parses as whole records: no quoted field is cut.
            var own = CsvRecords.Read(new StringReader(chunk)).Select(r => r.Fields).ToList();
            Assert.Equal(CsvHelperRecords(chunk), own);
            records.AddRange(own);
            // Never longer than the block, unless one record is.
            if (cut.Length > blockSize) Assert.Single(own);
        }
        Assert.Equal(CsvHelperRecords(text), records);
        Assert.Equal(301, records.Count);
    }

    [Fact]
    public void Without_quotes_the_cuts_are_those_of_lines()
    {
        var text = string.Concat(Enumerable.Range(0, 500).Select(i => $"{i},{new string('x', i % 37)}\n"));
        var bytes = Encoding.UTF8.GetBytes(text);
        Assert.Equal(LineChunker.Cuts(new MemoryStream(bytes), 256).ToList(), CsvChunker.Cuts(new MemoryStream(bytes), 256));
    }

    [Fact]
    public void A_last_record_without_a_line_end_and_a_record_longer_than_the_block_are_chunks()
    {
        var text = "a,b\n\"" + new string('q', 100) + "\n\",1\nlast,2";
        var bytes = Encoding.UTF8.GetBytes(text);
        var cuts = CsvChunker.Cuts(new MemoryStream(bytes), 10);
        Assert.Equal([new ChunkRange(0, 4), new ChunkRange(4, 106), new ChunkRange(110, 6)], cuts);
    }

    [Fact]
    public void Records_give_the_line_each_starts_on()
    {
        var records = CsvRecords.Read(new StringReader("h1,h2\n\"a\nb\",c\n\nd,e\n")).ToList();
        Assert.Equal([1L, 2L, 5L], records.Select(r => r.Line));
        Assert.Equal(["a\nb", "c"], records[1].Fields);
    }

    [Theory]
    [InlineData("a,b\n1,\"open\n2,3\n", 2, "closing quote is missing")]
    [InlineData("a,b\n1,2\n3,x\"y\n", 3, "a quote inside an unquoted field")]
    [InlineData("a,b\n\"1\"x,2\n", 2, "text after the closing quote")]
    public void A_misplaced_or_unclosed_quote_is_refused_with_its_line_by_the_chunker_the_reader_and_the_check(string text, int line, string problem)
    {
        var chunker = Assert.Throws<CsvSyntaxException>(() => CsvChunker.Cuts(new MemoryStream(Encoding.UTF8.GetBytes(text)), 1024));
        Assert.Equal(line, chunker.Line);
        Assert.Contains(problem, chunker.Problem);
        var reader = Assert.Throws<CsvSyntaxException>(() => CsvRecords.Read(new StringReader(text)).ToList());
        Assert.Equal(line, reader.Line);
        Assert.Contains(problem, reader.Problem);

        var file = Path.Combine(Path.GetTempPath(), $"csv-check-{Guid.NewGuid():N}.csv");
        File.WriteAllText(file, text);
        try
        {
            var e = Assert.Throws<InputException>(() => InputCheck.Run([new InputDocument("orders/bad.csv", file, text.Length)], TextEncodings.Utf8, 1 << 20, InputFormat.Csv));
            Assert.StartsWith($"input file 'orders/bad.csv' is not valid CSV at line {line}: ", e.Message);
            Assert.Contains(problem, e.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_json_line_that_does_not_parse_is_refused_with_its_file_and_line_and_blank_lines_pass()
    {
        var file = Path.Combine(Path.GetTempPath(), $"jsonl-check-{Guid.NewGuid():N}.jsonl");
        File.WriteAllText(file, "{\"a\":1}\n\n  \n[1,2]\n{\"a\": 2,}\n");
        try
        {
            var e = Assert.Throws<InputException>(() => InputCheck.Run([new InputDocument("events.jsonl", file, new FileInfo(file).Length)], TextEncodings.Utf8, 1 << 20, InputFormat.JsonLines));
            Assert.StartsWith("input file 'events.jsonl': line 5 is not valid JSON: ", e.Message);
            Assert.DoesNotContain("LineNumber", e.Message);
            File.WriteAllText(file, "{\"a\":1}\n\n\"text\"\n3");
            InputCheck.Run([new InputDocument("events.jsonl", file, new FileInfo(file).Length)], TextEncodings.Utf8, 1 << 20, InputFormat.JsonLines);
            File.WriteAllText(file, "{\"a\":1} {\"b\":2}\n");
            Assert.Contains("line 1 is not valid JSON", Assert.Throws<InputException>(() => InputCheck.Run([new InputDocument("events.jsonl", file, new FileInfo(file).Length)], TextEncodings.Utf8, 1 << 20, InputFormat.JsonLines)).Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Whole_files_are_not_read_as_text()
    {
        var file = Path.Combine(Path.GetTempPath(), $"binary-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(file, [0, 1, 2, 0xFF, 0xFE, 0]);
        try
        {
            var doc = new InputDocument("blob.bin", file, 6);
            Assert.Contains("looks binary", Assert.Throws<InputException>(() => InputCheck.Run([doc], TextEncodings.Utf8, 1 << 20)).Message);
            InputCheck.Run([doc], TextEncodings.Utf8, 1 << 20, InputFormat.WholeFile);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("data/D/000003-000007.csv", "data/D/000003-000000.csv")]
    [InlineData("data/D/000003-000000.csv.gz", "data/D/000003-000000.csv.gz")]
    [InlineData("data/data-2026-x/1234567-000012.csv", "data/data-2026-x/1234567-000000.csv")]
    public void A_later_chunk_finds_its_files_first_chunk(string key, string first) =>
        Assert.Equal(first, MapReduce.Actors.Worker.ChunkRecords.FirstChunkKey(key));

    [Theory]
    [InlineData("data/D/000001-000002", InputFormat.Lines)]
    [InlineData("data/D/000001-000002.gz", InputFormat.Lines)]
    [InlineData("data/D/000001-000002.csv", InputFormat.Csv)]
    [InlineData("data/D/000001-000000.csv.gz", InputFormat.Csv)]
    [InlineData("data/D/000001-000002.jsonl.gz", InputFormat.JsonLines)]
    [InlineData("data/D/000001-000000.file", InputFormat.WholeFile)]
    public void A_chunk_key_says_its_format(string key, InputFormat format) =>
        Assert.Equal(format, InputFormats.OfChunkKey(key, ".gz"));
}
