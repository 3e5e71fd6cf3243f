using System.Text.RegularExpressions;

namespace MapReduce.IntegrationTests;

/// <summary>Jobs submitted with --seed to one running local cluster: reuse of stored data, status, user-code failures.</summary>
public sealed class RunningClusterTests(RunningCluster cluster) : IClassFixture<RunningCluster>, IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private string[] Seeded(params string[] args) => [.. args, "--seed", cluster.Seed, "--store", cluster.Store];

    [Fact]
    public async Task Inverted_index_then_word_count_on_the_same_stored_data_then_status()
    {
        var indexOut = Path.Combine(_work, "index");
        var first = await Cli.SubmitAsync(Seeded("-d", Cli.Samples("data"), "-c", Cli.Samples("invertedindex"), "-o", indexOut, "--reducers", "3"));
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(Oracle.InvertedIndex(Cli.Samples("data")), Oracle.ReadParts(indexOut, 3));

        var dataId = Regex.Match(first.Output, @"--data-id (\S+)").Groups[1].Value;
        Assert.StartsWith("data-", dataId);
        var countOut = Path.Combine(_work, "count");
        var second = await Cli.SubmitAsync(Seeded("--data-id", dataId, "-c", Cli.Samples("wordcount"), "-o", countOut, "--reducers", "2"));
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.DoesNotContain("uploaded 8 files", second.Output);
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(countOut, 2));

        var execId = Regex.Match(second.Output, @"job (job-\S+) succeeded").Groups[1].Value;
        var status = await Cli.RunAsync("MapReduce.Submit", ["status", execId, "--store", cluster.Store], TimeSpan.FromSeconds(60));
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("status    success", status.Output);
        Assert.Contains($"data      {dataId}", status.Output);
        Assert.Contains("map       8 tasks, 8 attempts: success=8", status.Output);
        Assert.Contains("reduce    2 tasks, 2 attempts: success=2", status.Output);
        var list = await Cli.RunAsync("MapReduce.Submit", ["status", "--store", cluster.Store], TimeSpan.FromSeconds(60));
        Assert.Contains($"{execId}  success", list.Output);
    }

    /// <summary>
    /// Nodes run in their store folder; a host that watched it for configuration changes woke every
    /// node on each file the job wrote there (see HostWithoutDefaults).
    /// </summary>
    [Fact]
    public void No_node_watches_files()
    {
        var nodes = Cli.NodeProcessesUsing(cluster.Store);
        Assert.Equal(6, nodes.Count); // the local-mode parent, kvstore, 2 masters, 2 workers
        foreach (var pid in nodes)
        {
            var watchers = Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd")
                .Select(fd => new FileInfo(fd).LinkTarget)
                .Count(target => target == "anon_inode:inotify");
            Assert.True(watchers == 0, $"node process {pid} holds {watchers} inotify instance(s)");
        }
    }

    [Fact]
    public async Task Code_that_does_not_compile_fails_the_job_with_the_compiler_diagnostics()
    {
        var code = Directory.CreateDirectory(Path.Combine(_work, "broken")).FullName;
        await File.WriteAllTextAsync(Path.Combine(code, "task.csx"), """
            IEnumerable<(string, int)> Map(string docId, string chunk)
            {
                yield return (chunk, undefinedVariable);
            }
            int Reduce(string key, IEnumerable<int> values) => values.Sum();
            """);
        var output = Path.Combine(_work, "out");
        var result = await Cli.SubmitAsync(Seeded("-d", Cli.Samples("data"), "-c", code, "-o", output));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("task.csx does not compile:", result.Error);
        Assert.Contains("task.csx(3,26): error CS0103: The name 'undefinedVariable' does not exist in the current context", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output, "part-*").Any());
    }

    [Fact]
    public async Task A_Map_that_throws_is_retried_then_fails_the_job_naming_document_and_chunk()
    {
        var code = Directory.CreateDirectory(Path.Combine(_work, "throws")).FullName;
        await File.WriteAllTextAsync(Path.Combine(code, "task.csx"), """
            IEnumerable<(string, int)> Map(string docId, string chunk)
            {
                if (docId == "pg-grimm.txt") throw new InvalidOperationException("no fairy tales");
                yield return (docId, 1);
            }
            int Reduce(string key, IEnumerable<int> values) => values.Sum();
            """);
        var result = await Cli.SubmitAsync(Seeded("-d", Cli.Samples("data"), "-c", code, "-o", Path.Combine(_work, "out")));
        Assert.Equal(1, result.ExitCode);
        Assert.Matches(@"error: job job-\S+ failed: map task m\d{5} \(document 'pg-grimm.txt', chunk 0\) failed 3 times; last error: Map threw on document 'pg-grimm.txt', chunk 0: InvalidOperationException: no fairy tales", result.Error);
    }
}
