using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using CsvHelper;

namespace MapReduce.IntegrationTests;

/// <summary>
/// --input-format and --output-format through the CLI on the standing cluster: the CSV sample cut
/// into many chunks (so later chunks fetch their file's header) with its parts as CSV, whole binary
/// files with their parts as JSON lines, each read back by CsvHelper or System.Text.Json and
/// checked against an answer computed here; and a Map that does not fit the format fails the job
/// at once with one line.
/// </summary>
[Collection(StandingCluster.Name)]
public sealed class RecordFormatsTests(RunningCluster cluster) : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private string[] Seeded(params string[] args) => [.. args, "--cluster", cluster.Api, "--store", cluster.Store];

    [Fact]
    public async Task The_csv_sample_in_1_KB_chunks_gives_CsvHelpers_totals_as_csv_parts()
    {
        var expected = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(Cli.Samples("csv-totals-data")))
        {
            using var csv = new CsvReader(new StreamReader(file), CultureInfo.InvariantCulture);
            csv.Read();
            csv.ReadHeader();
            while (csv.Read())
                if (decimal.TryParse(csv.GetField("amount"), NumberStyles.Number, CultureInfo.InvariantCulture, out var amount))
                    expected[csv.GetField("category")!] = expected.GetValueOrDefault(csv.GetField("category")!) + amount;
        }

        var output = Path.Combine(_work, "totals");
        var job = await Cli.SubmitAsync(Seeded("-d", Cli.Samples("csv-totals-data"), "-c", Cli.Samples("csv-totals"), "--input-format", "csv",
            "--output-format", "csv", "--block-size", "1024", "-o", output, "--reducers", "2"));
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Matches(@"uploaded 2 files, [\d.]+ MB in (1[5-9]|[2-9]\d) chunks", job.Output);

        var totals = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var part in new[] { "part-00000.csv", "part-00001.csv" })
        {
            using var csv = new CsvReader(new StreamReader(Path.Combine(output, part)), CultureInfo.InvariantCulture);
            csv.Read();
            csv.ReadHeader();
            Assert.Equal(["key", "value"], csv.HeaderRecord!);
            while (csv.Read()) totals.Add(csv.GetField("key")!, decimal.Parse(csv.GetField("value")!, CultureInfo.InvariantCulture));
        }
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), totals.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Contains("kitchen, dining", totals.Keys);
    }

    [Fact]
    public async Task Whole_binary_files_reach_Map_byte_for_byte_and_a_Map_of_another_format_fails_the_job_at_once()
    {
        var input = Directory.CreateDirectory(Path.Combine(_work, "blobs")).FullName;
        var random = new Random(22);
        var files = new Dictionary<string, byte[]>
        {
            ["zeros.bin"] = new byte[3000],
            ["noise.bin"] = Enumerable.Range(0, 200_000).Select(_ => (byte)random.Next(256)).ToArray(),
            ["sub/one.bin"] = [0xFF],
        };
        using (var gz = new MemoryStream())
        {
            using (var zip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) zip.Write("not decompressed"u8);
            files["kept.gz"] = gz.ToArray(); // whole-file reads a .gz file's own bytes
        }
        foreach (var (name, bytes) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(input, name))!);
            await File.WriteAllBytesAsync(Path.Combine(input, name), bytes);
        }
        var code = Directory.CreateDirectory(Path.Combine(_work, "hash")).FullName;
        await File.WriteAllTextAsync(Path.Combine(code, "task.csx"), """
            IEnumerable<(string, string)> Map(string docId, byte[] content)
            {
                yield return (docId, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(content)));
            }
            string Reduce(string docId, IEnumerable<string> hashes) => string.Join(" ", hashes);
            """);

        var output = Path.Combine(_work, "hashes");
        var job = await Cli.SubmitAsync(Seeded("-d", input, "-c", code, "--input-format", "whole-file", "--output-format", "jsonl", "-o", output, "--reducers", "2"));
        Assert.True(job.ExitCode == 0, job.ToString());
        var hashes = new Dictionary<string, string>();
        foreach (var part in new[] { "part-00000.jsonl", "part-00001.jsonl" })
            foreach (var line in await File.ReadAllLinesAsync(Path.Combine(output, part)))
            {
                using var json = JsonDocument.Parse(line);
                hashes.Add(json.RootElement.GetProperty("key").GetString()!, json.RootElement.GetProperty("value").GetString()!);
            }
        Assert.Equal(files.ToDictionary(f => f.Key, f => Convert.ToHexString(SHA256.HashData(f.Value))).OrderBy(kv => kv.Key), hashes.OrderBy(kv => kv.Key));

        // Word count's Map takes text lines: over a whole-file dataset it fails once, with the signature it needs, and no retries.
        var misfit = await Cli.SubmitAsync(Seeded("-d", input, "-c", Cli.Samples("wordcount"), "--input-format", "whole-file", "-o", Path.Combine(_work, "misfit")));
        Assert.Equal(1, misfit.ExitCode);
        var error = Assert.Single(misfit.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^error: job job-\S+ failed: .*Map takes string records, which is --input-format lines, but document '[^']+', chunk 0 was uploaded with --input-format whole-file; for it, define IEnumerable<\(TKey, TValue\)> Map\(string docId, byte\[\] content\)$", error.Trim());
    }
}
