namespace MapReduce.IntegrationTests;

/// <summary>`--in-process`: kvstore, master and worker inside the CLI's process, the script compiled for a debugger.</summary>
[RunsAbout(12)]
public sealed class InProcessTests : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Word_count_on_the_sample_books_starts_no_node_process_and_a_failing_script_names_its_file_and_line()
    {
        var store = Path.Combine(_work, "store");
        var output = Path.Combine(_work, "out");

        var result = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--store", store, "--in-process");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"using this process (--in-process) on {store}", result.Output);
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 4));
        Assert.DoesNotContain("[INFO]", result.Output); // the node's own log lines would bury the job's progress
        Assert.DoesNotContain("[WARNING]", result.Output);
        Assert.Empty(Cli.NodeProcessesUsing(store));
        // Local mode logs each node process it starts under STORE/logs: none was started.
        Assert.False(Directory.Exists(Path.Combine(store, "logs")) && Directory.EnumerateFiles(Path.Combine(store, "logs"), "*.log").Any());

        // The script is compiled with its file as the PDB document: the failure's stack trace names it and the line.
        var code = Directory.CreateDirectory(Path.Combine(_work, "failing")).FullName;
        var script = Path.Combine(code, "task.csx");
        await File.WriteAllTextAsync(script, """
            IEnumerable<(string, int)> Map(string docId, string chunk)
            {
                if (chunk.Length > 0) throw new InvalidOperationException("no");
                yield break;
            }
            int Reduce(string key, IEnumerable<int> values) => values.Sum();
            """);
        var failed = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", code, "-o", Path.Combine(_work, "failed"), "--store", store, "--in-process", "--sample", "5");
        Assert.True(failed.ExitCode == 1, failed.ToString());
        var jobId = System.Text.RegularExpressions.Regex.Match(failed.Error, @"job (job-\S+) failed").Groups[1].Value;
        var logs = await Cli.SubmitAsync("logs", jobId, "--store", store);
        Assert.True(logs.ExitCode == 0, logs.ToString());
        Assert.Contains($"{script}:line 3", logs.Output);
        Assert.Empty(Cli.NodeProcessesUsing(store));
    }
}
