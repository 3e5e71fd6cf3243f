using System.Text.RegularExpressions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// The benchmark command end to end on a small input: a real local cluster of processes, the
/// sequential baseline in the CLI's process, and both outputs checked against an independent count.
/// </summary>
[RunsAbout(90)]
public sealed class BenchTests : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private Task<CliResult> BenchAsync(params string[] args) =>
        Cli.SubmitAsync(["bench", "--dir", _work, "--code", Cli.Samples("wordcount"), "--samples", Cli.Samples("data"), .. args]);

    [Fact]
    public async Task Bench_runs_both_ways_reports_every_figure_and_both_outputs_match_an_independent_count()
    {
        var result = await BenchAsync("--size", "3MB", "--files", "6", "--tiny-runs", "2", "--runs", "2", "--warmups", "1");

        Assert.True(result.ExitCode == 0, result.ToString());
        var input = Path.Combine(_work, "input-3000000-6");
        var files = Directory.GetFiles(input);
        Assert.Equal(6, files.Length);
        var inputBytes = files.Sum(f => new FileInfo(f).Length);
        Assert.InRange(inputBytes, 2_400_000, 3_000_000); // each file ends at a line end at or before its share
        Assert.All(files, f => Assert.EndsWith("\n", File.ReadAllText(f)));

        var expected = Oracle.WordCount(input);
        Assert.Equal(expected, new SortedSet<string>(File.ReadAllLines(Path.Combine(_work, "sequential.txt")), StringComparer.Ordinal));
        Assert.Equal(expected, Oracle.ReadParts(Path.Combine(_work, "out-cluster"), 4));

        var output = result.Output;
        Assert.Contains($"input: {inputBytes / 1_000_000.0:F1} MB in 6 files", output);
        Assert.Matches(@"sequential: \d+\.\d\d s, \d+\.\d MB/s, " + expected.Count + @" lines, peak \d+ MB \(median of 2 runs: \d+\.\d\d s, \d+\.\d\d s; warm-up \d+\.\d\d s, not counted; compile", output);
        Assert.Matches(@"cluster: 1 kvstore, 2 masters, 2 workers x 1 tasks, up and joined in", output);
        Assert.Matches(@"tiny job \(0\.004 MB uploaded, compiled code\), submit to output written: median \d+ ms, min \d+ ms, max \d+ ms over 2 runs", output);
        Assert.Matches(@"LC_ALL=C tr -cs A-Za-z '\\n' \| sort \| uniq -c: \d+\.\d\d s \(median of 2 runs: \d+\.\d\d s, \d+\.\d\d s\)", output);
        Assert.Matches(@"cluster: \d+\.\d\d s, \d+\.\d MB/s, ratio cluster/sequential \d+\.\d\d, cluster/tr\|sort\|uniq \d+\.\d\d \(median of 2 runs: \d+\.\d\d s, \d+\.\d\d s; warm-up \d+\.\d\d s, not counted\)", output);
        foreach (var run in new[] { "warm-up 1", "run 1", "run 2" })
            Assert.Matches($@"{run}: \d+\.\d\d s: upload \d+\.\d\d s, submit \d+\.\d\d s, map \d+\.\d\d s, shuffle\+reduce \d+\.\d\d s, download \d+\.\d\d s; "
                + @"cpu seconds: kvstore \d+\.\d\d, master-1 \d+\.\d\d, master-2 \d+\.\d\d, worker-1 \d+\.\d\d, worker-2 \d+\.\d\d, submitter \d+\.\d\d", output);
        var peaks = Regex.Match(output, "peak memory: (.*)").Groups[1].Value;
        foreach (var node in new[] { "kvstore", "master-1", "master-2", "worker-1", "worker-2", "submitter (this process)" })
            Assert.Matches(Regex.Escape(node) + @" \d+ MB", peaks);
        Assert.Contains($"outputs: identical ({expected.Count} lines)", output);
        Assert.Matches(@"targets: .*cluster at most 0\.7x sequential: (met|MISSED); cluster at most 0\.7x tr\|sort\|uniq: (met|MISSED); tiny job under 300 ms: (met|MISSED); every node under 1 GB peak: (met|MISSED)", output);

        // Each of the 3 big runs deleted its upload; the first job's and the 2 tiny jobs' stay.
        Assert.Equal(3, Directory.GetDirectories(Path.Combine(_work, "store", "kvstore", "blobs", "data")).Length);
        await Cli.AssertNoNodeProcessesLeftAsync(Path.Combine(_work, "store"));
    }

    [Fact]
    public async Task Bench_jobs_runs_a_tiny_job_beside_a_big_one_first_and_a_burst_from_eight_clients_exactly()
    {
        var result = await Cli.SubmitAsync("bench", "jobs", "--dir", _work, "--code", Cli.Samples("wordcount"), "--samples", Cli.Samples("data"),
            "--jobs", "40", "--clients", "8", "--big", "30MB");

        Assert.True(result.ExitCode == 0, result.ToString());
        var output = result.Output;
        // Fair share: the tiny job takes the next slot that frees, so it ends while the big job still runs.
        Assert.Matches(@"tiny job \(20 KB\) beside a big one \(30 MB\): \d+\.\d\d s of job time, \d+\.\d\d s from upload to output written; the big job was still running then and took \d+\.\d\d s", output);
        Assert.Matches(@"burst: 40 tiny jobs from 8 clients in \d+\.\d\d s: \d+\.\d jobs/s; 40 distinct job ids, 0 with wrong output, 0 tasks with more than one successful attempt", output);
        Assert.Matches(@"masters: \d+\.\d\d cpu seconds during the burst; master-1 \d+ MB resident, peak \d+ MB, master-2 \d+ MB resident, peak \d+ MB", output);
        // Both jobs' outputs against independent counts (the burst's are each compared with the first tiny job's).
        Assert.Equal(Oracle.WordCount(Path.Combine(_work, "input-30000000-64")), Oracle.ReadParts(Path.Combine(_work, "jobs-out", "big"), 4));
        Assert.Equal(Oracle.WordCount(Path.Combine(_work, "input-tiny")), Oracle.ReadParts(Path.Combine(_work, "jobs-out", "first"), 1));
        Assert.Equal(Oracle.WordCount(Path.Combine(_work, "input-tiny-20000")), Oracle.ReadParts(Path.Combine(_work, "jobs-out", "beside-big"), 1));
        await Cli.AssertNoNodeProcessesLeftAsync(Path.Combine(_work, "jobs-store"));
    }

    [Fact]
    public async Task Bench_sort_sorts_100_MB_of_records_exactly_as_GNU_sort_does_and_leaves_the_store_empty()
    {
        var result = await Cli.SubmitAsync("bench", "sort", "--dir", _work, "--code", Cli.Samples("sort"), "--size", "100MB", "--compare");

        Assert.True(result.ExitCode == 0, result.ToString());
        var output = result.Output;
        Assert.Contains("input: 100.0 MB, 1,000,000 records of 100 bytes (seed 1)", output);
        Assert.Matches(@"GNU sort \(LC_ALL=C sort -S 25% --parallel=2\): \d+\.\d\d s, \d+\.\d MB/s", output);
        Assert.Matches(@"cluster sort: \d+\.\d\d s, \d+\.\d MB/s, 2 reducers; ratio cluster/GNU sort \d+\.\d\d", output);
        Assert.Matches(@"output: valid \(1,000,000 records in 2 parts, globally ordered, checksum [0-9a-f]{16} as the input's\)", output);
        Assert.Contains("output: byte-identical to GNU sort's", output);
        Assert.Matches(@"store and scratch: at most \d+\.\d MB during the job \(\d\.\d\dx the input\)", output);
        Assert.Contains("left in the store once the input and the result are deleted: 0.0 MB", output);
        Assert.Matches(@"targets: at most 1\.2x GNU sort: (met|MISSED); every node under 1 GB peak: (met|MISSED); store and scratch at most 3x the input: met; space freed at the end: met", output);

        // The generated input is what the bench says it is: 100-byte lines with 10-character keys, deterministic from the seed.
        var records = File.ReadLines(Path.Combine(_work, "sort-input-100000000-1", "records.txt")).Take(1000).ToList();
        Assert.All(records, r => Assert.Equal(99, r.Length));
        Assert.All(records, r => Assert.Matches(@"^[ -~]{10} [0-9A-F]{32} [A-Z]{55}$", r));
        Assert.Equal(records, File.ReadLines(Path.Combine(_work, "sort-input-100000000-1", "records.txt")).Take(1000));
        await Cli.AssertNoNodeProcessesLeftAsync(Path.Combine(_work, "store-sort"));
    }

    [Theory]
    [InlineData(new[] { "--files", "0" }, "error: --files must be at least 1")]
    [InlineData(new[] { "--size", "lots" }, "error: --size 'lots' is not a size such as 200MB or 1GB")]
    [InlineData(new[] { "--size", "10KB", "--files", "64" }, "error: --size 10000 B over 64 files leaves less than 1 KB per file")]
    [InlineData(new[] { "--workers", "0" }, "error: --workers must be at least 1")]
    [InlineData(new[] { "--runs", "0" }, "error: --runs must be at least 1")]
    [InlineData(new[] { "--warmups", "-1" }, "error: --warmups must not be negative")]
    public async Task Bench_rejects_bad_options_with_one_line_and_exit_code_2(string[] args, string message)
    {
        var result = await BenchAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(message, result.Error.Trim());
        Assert.Empty(Directory.GetDirectories(_work));
    }

    [Fact]
    public async Task Bench_with_a_missing_sample_folder_says_so()
    {
        var missing = Path.Combine(_work, "no-such-samples");

        var result = await Cli.SubmitAsync("bench", "--dir", _work, "--code", Cli.Samples("wordcount"), "--samples", missing, "--size", "1MB", "--files", "2");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: sample folder '{missing}' does not exist", result.Error.Trim());
    }
}
