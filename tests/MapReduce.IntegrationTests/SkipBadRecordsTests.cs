using System.Text.RegularExpressions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// The input and scripts of the skip-bad-records tests: a word count whose Map throws on (or exits
/// its process on) every line that holds a marker word, and the answer computed here without the
/// marked lines.
/// </summary>
internal static class BadLines
{
    private static readonly string[] Words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];

    /// <summary>Writes three small documents into <paramref name="folder"/>, with <paramref name="marked"/> (document, line number) holding <paramref name="marker"/>.</summary>
    public static (string DocId, string Text)[] Write(string folder, string marker, params (string DocId, int Line)[] marked)
    {
        Directory.CreateDirectory(folder);
        var documents = new[] { ("a.txt", 40), ("b.txt", 30), ("c.txt", 25) }.Select(d =>
        {
            var lines = Enumerable.Range(1, d.Item2).Select(n =>
                string.Join(' ', Enumerable.Range(0, 1 + n % 5).Select(i => Words[(n * 7 + i * 3 + d.Item1[0]) % Words.Length]))
                + (marked.Contains((d.Item1, n)) ? $" {marker}" : ""));
            return (DocId: d.Item1, Text: string.Concat(lines.Select(l => l + "\n")));
        }).ToArray();
        foreach (var (docId, text) in documents) File.WriteAllText(Path.Combine(folder, docId), text);
        return documents;
    }

    /// <summary>The word count without the lines that hold the marker.</summary>
    public static SortedSet<string> Answer((string DocId, string Text)[] documents, string marker) =>
        Oracle.WordCount(documents.Select(d => (d.DocId, string.Concat(d.Text.Split('\n').Where(l => !l.Contains(marker)).Select(l => l + "\n")))));

    /// <summary>A folder with a word count whose Map runs <paramref name="onMarker"/> when its text holds <paramref name="marker"/>.</summary>
    public static string Script(string folder, string marker, string onMarker)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "task.csx"), $$"""
            IEnumerable<(string, int)> Map(string docId, string chunk)
            {
                if (chunk.Contains("{{marker}}")) {{onMarker}}
                foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(chunk, @"\p{L}+"))
                    yield return (m.Value, 1);
            }
            int Reduce(string word, IEnumerable<int> counts) => counts.Sum();
            """);
        return folder;
    }

    public const string Throws = "throw new InvalidOperationException(\"poisoned line\");";
}

/// <summary>--skip-bad-records on the shared cluster: a Map that throws on two lines.</summary>
[Collection(StandingCluster.Name)]
public sealed class SkipBadRecordsTests(RunningCluster cluster) : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Two_lines_map_throws_on_are_skipped_counted_and_listed_and_without_the_flag_the_job_fails_as_before()
    {
        var documents = BadLines.Write(Path.Combine(_work, "data"), "POISON", ("a.txt", 3), ("b.txt", 2));
        var code = BadLines.Script(Path.Combine(_work, "code"), "POISON", BadLines.Throws);
        var output = Path.Combine(_work, "out");

        var skipping = await Cli.SubmitAsync("-d", Path.Combine(_work, "data"), "-c", code, "-o", output, "--reducers", "2", "--skip-bad-records",
            "--cluster", cluster.Api, "--store", cluster.Store);

        Assert.True(skipping.ExitCode == 0, skipping.ToString());
        Assert.Equal(BadLines.Answer(documents, "POISON"), Oracle.ReadParts(output, 2));
        var job = skipping.SucceededJob;
        var status = await Cli.RunAsync("MapReduce.Submit", ["status", job, "--store", cluster.Store], TimeSpan.FromSeconds(60));
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("skipped   2 bad records (Map failed on each in two attempts)", status.Output);
        Assert.Matches(@"(?m)^  document 'a\.txt', line 3 \(Map threw on document 'a\.txt', chunk 0, line 3: InvalidOperationException: poisoned line\) \(m\d{5}\.\d+\)$", status.Output);
        Assert.Matches(@"(?m)^  document 'b\.txt', line 2 \(Map threw on document 'b\.txt', chunk 0, line 2: InvalidOperationException: poisoned line\) \(m\d{5}\.\d+\)$", status.Output);
        Assert.Matches(@"(?m)^  records\.skipped +2$", status.Output);
        var logs = await Cli.RunAsync("MapReduce.Submit", ["logs", job, "--store", cluster.Store], TimeSpan.FromSeconds(60));
        Assert.True(logs.ExitCode == 0, logs.ToString());
        Assert.Contains("skipped bad record: document 'a.txt', line 3 (Map failed on it in two attempts)", logs.Output);
        Assert.Contains("skipped bad record: document 'b.txt', line 2 (Map failed on it in two attempts)", logs.Output);

        // The same input and code without the flag: the job fails as it always did.
        var dataId = Regex.Match(skipping.Output, @"--data-id (\S+)").Groups[1].Value;
        var failing = await Cli.SubmitAsync("--data-id", dataId, "-c", code, "-o", Path.Combine(_work, "out-failing"), "--reducers", "2",
            "--cluster", cluster.Api, "--store", cluster.Store);
        Assert.True(failing.ExitCode == 1, failing.ToString());
        Assert.Matches(@"^error: job job-\S+ failed: map task m0000[01] \(document '[ab]\.txt', chunk 0\) failed 3 times; last error: Map threw on document '[ab]\.txt', chunk 0: InvalidOperationException: poisoned line$",
            failing.Error.Trim());
    }

    [Fact]
    public async Task A_bad_line_past_a_documents_first_chunk_is_named_by_its_line_in_the_document()
    {
        // 400 lines of ~20 bytes cut into chunks of at most 1 KiB: line 250 lies in a later chunk.
        var data = Directory.CreateDirectory(Path.Combine(_work, "long")).FullName;
        var lines = Enumerable.Range(1, 400).Select(n => $"word{n % 13} line{n:D4}{(n == 250 ? " POISON" : "")}").ToList();
        await File.WriteAllTextAsync(Path.Combine(data, "long.txt"), string.Concat(lines.Select(l => l + "\n")));
        var code = BadLines.Script(Path.Combine(_work, "code"), "POISON", BadLines.Throws);
        var output = Path.Combine(_work, "out");

        var result = await Cli.SubmitAsync("-d", data, "-c", code, "-o", output, "--reducers", "1", "--block-size", "1024", "--skip-bad-records",
            "--cluster", cluster.Api, "--store", cluster.Store);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Oracle.WordCount([("long.txt", string.Concat(lines.Where(l => !l.Contains("POISON")).Select(l => l + "\n")))]), Oracle.ReadParts(output, 1));
        var status = await Cli.RunAsync("MapReduce.Submit", ["status", result.SucceededJob, "--store", cluster.Store], TimeSpan.FromSeconds(60));
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Matches(@"(?m)^  document 'long\.txt', line 250 \(Map threw on document 'long\.txt', line 250: InvalidOperationException: poisoned line\) \(m\d{5}\.\d+\)$", status.Output);
        var logs = await Cli.RunAsync("MapReduce.Submit", ["logs", result.SucceededJob, "--store", cluster.Store], TimeSpan.FromSeconds(60));
        Assert.Contains("skipped bad record: document 'long.txt', line 250 (Map failed on it in two attempts)", logs.Output);
    }
}

/// <summary>
/// --skip-bad-records with a Map that exits its worker's process on a line, and a job over
/// max-skipped-records: a local cluster of their own (workers exit, local mode restarts them), with
/// mapreduce.max-skipped-records = 1.
/// </summary>
[RunsAbout(37)]
public sealed class SkipBadRecordsExitTests : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task A_line_map_exits_the_process_on_is_skipped_and_one_bad_line_over_the_limit_fails_the_job_naming_it()
    {
        var cluster = RunningCluster.WithHocon("mapreduce.max-skipped-records = 1\n");
        try
        {
            await cluster.InitializeAsync();
            var documents = BadLines.Write(Path.Combine(_work, "exiting"), "EXIT", ("b.txt", 4));
            var exits = BadLines.Script(Path.Combine(_work, "exits"), "EXIT", "Environment.Exit(3);");
            var output = Path.Combine(_work, "out");
            var skipping = await Cli.SubmitAsync("-d", Path.Combine(_work, "exiting"), "-c", exits, "-o", output, "--reducers", "2", "--skip-bad-records",
                "--cluster", cluster.Api, "--store", cluster.Store);
            Assert.True(skipping.ExitCode == 0, skipping.ToString());
            Assert.Equal(BadLines.Answer(documents, "EXIT"), Oracle.ReadParts(output, 2));
            Assert.Matches(@"worker-\d exited with code 3", cluster.Output);
            var status = await Cli.RunAsync("MapReduce.Submit", ["status", skipping.SucceededJob, "--store", cluster.Store], TimeSpan.FromSeconds(60));
            Assert.True(status.ExitCode == 0, status.ToString());
            Assert.Matches(@"(?m)^  document 'b\.txt', line 4 \(worker process exited with code 3 while running map m\d{5}\) \(m\d{5}\.\d+\)$", status.Output);
            Assert.Matches(@"(?m)^  records\.skipped +1$", status.Output);

            // Two lines that throw, one more than the cluster's limit of 1.
            BadLines.Write(Path.Combine(_work, "poisoned"), "POISON", ("a.txt", 3), ("b.txt", 2));
            var throws = BadLines.Script(Path.Combine(_work, "throws"), "POISON", BadLines.Throws);
            var over = await Cli.SubmitAsync("-d", Path.Combine(_work, "poisoned"), "-c", throws, "-o", Path.Combine(_work, "out-over"), "--skip-bad-records",
                "--cluster", cluster.Api, "--store", cluster.Store);
            Assert.True(over.ExitCode == 1, over.ToString());
            // Each document is a map task of its own: either line may be the one past the limit.
            Assert.Matches(@"^error: job job-\S+ failed: Map failed on more than 1 lines \(mapreduce\.max-skipped-records = 1\); the last: document '(a\.txt', line 3|b\.txt', line 2): Map threw on document '[ab]\.txt', chunk 0, line [23]: InvalidOperationException: poisoned line$",
                over.Error.Trim());
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}
