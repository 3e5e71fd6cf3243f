using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MapReduce.Actors.UserCode;
using MapReduce.Storage.Chunking;
using MapReduce.Testing;

namespace MapReduce.Tests.Testing;

/// <summary>
/// Jobs over CSV, JSON lines and whole files through the in-process harness, which cuts and reads
/// the input as the upload and the workers do (CsvChunker, ChunkRecords): each answer is computed
/// here from the objects the input was made of, not by reading it the engine's way.
/// </summary>
public sealed class RecordFormatsTests
{
    private static Dictionary<string, string> Pairs(HarnessResult result) =>
        result.Parts.SelectMany(p => p.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            .Select(l => l.Split('\t')).ToDictionary(f => f[0], f => f[1]);

    private sealed record Event(string User, string Kind, int Bytes);

    private static List<Event> Events(int count)
    {
        var random = new Random(5);
        string[] users = ["ada", "bob", "cy \"the\" one", "dee\ttab", "émile"];
        return [.. Enumerable.Range(0, count).Select(i => new Event(users[random.Next(users.Length)], i % 3 == 0 ? "put" : "get", random.Next(10_000)))];
    }

    private static string JsonLines(IEnumerable<Event> events) =>
        string.Concat(events.Select((e, i) => JsonSerializer.Serialize(new { user = e.User, kind = e.Kind, bytes = e.Bytes }) + (i % 10 == 0 ? "\n\n" : "\n")));

    [Fact]
    public void Csv_rows_give_fields_by_header_name_across_chunks_with_quoted_line_breaks()
    {
        const string script = """
            IEnumerable<(string, long)> Map(string docId, CsvRow row) { yield return (row["user"], long.Parse(row["bytes"])); }
            long Reduce(string user, IEnumerable<long> bytes) => bytes.Sum();
            """;
        var events = Events(400);
        var csv = new StringBuilder("bytes,note,user\n"); // the columns in another order than Map reads them
        foreach (var e in events)
            csv.Append(CultureInfo.InvariantCulture, $"{e.Bytes},\"a note, with \"\"quotes\"\"\nand a line break\",\"{e.User.Replace("\"", "\"\"", StringComparison.Ordinal)}\"\n");
        var file = Path.Combine(Path.GetTempPath(), $"task-{Guid.NewGuid():N}.csx");
        File.WriteAllText(file, script);
        try
        {
            var result = JobHarness.RunScript(file, [("events.csv", csv.ToString())], new HarnessOptions { Reducers = 2, BlockSize = 1024, InputFormat = InputFormat.Csv });
            var expected = events.GroupBy(e => e.User).ToDictionary(g => OutputFormat.Escape(g.Key), g => g.Sum(e => (long)e.Bytes).ToString(CultureInfo.InvariantCulture));
            Assert.Equal(expected.OrderBy(kv => kv.Key), Pairs(result).OrderBy(kv => kv.Key));
            Assert.Equal(400, result.Counters[TaskCounterNames.MapInputLines]); // records, not lines, for CSV
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Json_lines_as_JsonElement_and_as_a_record_type_the_script_declares_give_the_same_sums()
    {
        var events = Events(300);
        var expected = events.GroupBy(e => e.User).ToDictionary(g => OutputFormat.Escape(g.Key), g => g.Where(e => e.Kind == "put").Sum(e => (long)e.Bytes).ToString(CultureInfo.InvariantCulture));
        var documents = new[] { ("a.jsonl", JsonLines(events.Take(120))), ("b.jsonl", JsonLines(events.Skip(120))) };
        var options = new HarnessOptions { Reducers = 3, BlockSize = 2048, InputFormat = InputFormat.JsonLines };

        var asElement = Run("""
            IEnumerable<(string, long)> Map(string docId, JsonElement e)
            {
                yield return (e.GetProperty("user").GetString()!, e.GetProperty("kind").GetString() == "put" ? e.GetProperty("bytes").GetInt64() : 0);
            }
            long Reduce(string user, IEnumerable<long> bytes) => bytes.Sum();
            """, documents, options);
        var asRecord = Run("""
            public record Event(string User, string Kind, long Bytes);
            IEnumerable<(string, long)> Map(string docId, Event e) { yield return (e.User, e.Kind == "put" ? e.Bytes : 0); }
            long Reduce(string user, IEnumerable<long> bytes) => bytes.Sum();
            """, documents, options);

        Assert.Equal(expected.OrderBy(kv => kv.Key), Pairs(asElement).OrderBy(kv => kv.Key));
        Assert.Equal(expected.OrderBy(kv => kv.Key), Pairs(asRecord).OrderBy(kv => kv.Key));
        Assert.Equal(300, asRecord.Counters[TaskCounterNames.MapInputLines]); // blank lines are no record
    }

    [Fact]
    public void A_json_line_that_does_not_parse_or_fit_the_type_fails_naming_the_document_and_line()
    {
        var options = new HarnessOptions { Reducers = 1, InputFormat = InputFormat.JsonLines };
        var bad = Assert.Throws<InputException>(() => Run("""
            IEnumerable<(string, int)> Map(string docId, JsonElement e) { yield return (docId, 1); }
            int Reduce(string k, IEnumerable<int> v) => v.Sum();
            """, [("e.jsonl", "{\"a\":1}\n\n{\"a\":\n")], options));
        Assert.StartsWith("document 'e.jsonl', chunk 0: line 3 is not valid JSON: ", bad.Message);

        var misfit = Assert.Throws<InputException>(() => Run("""
            public record Point(int X, int Y);
            IEnumerable<(int, int)> Map(string docId, Point p) { yield return (p.X, p.Y); }
            int Reduce(int k, IEnumerable<int> v) => v.Sum();
            """, [("p.jsonl", "{\"x\":1,\"y\":2}\n{\"x\":\"one\",\"y\":2}\n")], options));
        Assert.StartsWith("document 'p.jsonl', chunk 0: line 2 does not fit Point: ", misfit.Message);
    }

    [Fact]
    public void Whole_files_give_Map_each_files_bytes_once()
    {
        var documents = new[] { ("one.bin", "héllo\nworld"), ("two/three.bin", new string('z', 5000)) };
        var result = Run("""
            IEnumerable<(string, string)> Map(string docId, byte[] content) { yield return (docId, $"{content.Length} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(content))}"); }
            string Reduce(string doc, IEnumerable<string> v) => string.Join("|", v);
            """, documents, new HarnessOptions { Reducers = 2, BlockSize = 1024, InputFormat = InputFormat.WholeFile });
        var expected = documents.ToDictionary(d => d.Item1, d =>
        {
            var bytes = Encoding.UTF8.GetBytes(d.Item2);
            return $"{bytes.Length} {Convert.ToHexString(SHA256.HashData(bytes))}";
        });
        Assert.Equal(expected.OrderBy(kv => kv.Key), Pairs(result).OrderBy(kv => kv.Key));
    }

    [Theory]
    [InlineData("string chunk", InputFormat.Csv, "Map takes string records, which is --input-format lines, but the harness's input was uploaded with --input-format csv; for it, define IEnumerable<(TKey, TValue)> Map(string docId, CsvRow row)")]
    [InlineData("CsvRow row", InputFormat.Lines, "Map takes CsvRow records, which is --input-format csv, but the harness's input was uploaded with --input-format lines; for it, define IEnumerable<(TKey, TValue)> Map(string docId, string chunk)")]
    [InlineData("JsonElement e", InputFormat.WholeFile, "Map takes JsonElement records, which is --input-format jsonl, but the harness's input was uploaded with --input-format whole-file; for it, define IEnumerable<(TKey, TValue)> Map(string docId, byte[] content)")]
    [InlineData("byte[] b", InputFormat.JsonLines, "Map takes byte[] records, which is --input-format whole-file, but the harness's input was uploaded with --input-format jsonl; for it, define IEnumerable<(TKey, TValue)> Map(string docId, JsonElement record) (or a record type the job declares)")]
    public void A_Map_that_does_not_fit_the_input_format_is_refused_with_the_signature_expected(string parameter, InputFormat format, string message)
    {
        var e = Assert.Throws<CompileErrorException>(() => Run($$"""
            IEnumerable<(string, int)> Map(string docId, {{parameter}}) { yield return (docId, 1); }
            int Reduce(string k, IEnumerable<int> v) => v.Sum();
            """, [("a", "x,y\n1,2\n")], new HarnessOptions { Reducers = 1, InputFormat = format }));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void A_column_the_header_lacks_fails_Map_naming_the_header()
    {
        var e = Assert.Throws<UserCodeException>(() => Run("""
            IEnumerable<(string, int)> Map(string docId, CsvRow row) { yield return (row["region"], 1); }
            int Reduce(string k, IEnumerable<int> v) => v.Sum();
            """, [("s.csv", "id,name\n1,a\n")], new HarnessOptions { Reducers = 1, InputFormat = InputFormat.Csv }));
        Assert.Equal("Map threw on document 's.csv', chunk 0: KeyNotFoundException: the CSV header has no column 'region'; it has: id, name", e.Message);
    }

    [Fact]
    public void TotalOrder_over_records_is_refused_saying_to_partition_otherwise()
    {
        var e = Assert.Throws<CompileErrorException>(() => Run("""
            IEnumerable<(string, int)> Map(string docId, CsvRow row) { yield return (row["id"], 1); }
            int Partition(string key, int reducers) => TotalOrder(key, reducers);
            int Reduce(string k, IEnumerable<int> v) => v.Sum();
            """, [("s.csv", "id\n1\n2\n")], new HarnessOptions { Reducers = 2, InputFormat = InputFormat.Csv }));
        Assert.Contains("TotalOrder samples keys from text lines", e.Message);
    }

    private static HarnessResult Run(string script, IEnumerable<(string DocId, string Text)> documents, HarnessOptions options)
    {
        var file = Path.Combine(Path.GetTempPath(), $"task-{Guid.NewGuid():N}.csx");
        File.WriteAllText(file, script);
        try
        {
            return JobHarness.RunScript(file, documents, options);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
