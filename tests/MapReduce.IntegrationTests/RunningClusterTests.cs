using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>Jobs submitted with --seed to one running local cluster: reuse of stored data, status, many small files, user-code failures.</summary>
public sealed class RunningClusterTests(RunningCluster cluster, ITestOutputHelper log) : IClassFixture<RunningCluster>, IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private string[] Seeded(params string[] args) => [.. args, "--cluster", cluster.Api, "--store", cluster.Store];

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

    [Fact]
    public async Task A_finished_job_leaves_only_its_result_and_a_deleted_dataset_is_gone_and_refused()
    {
        var output = Path.Combine(_work, "count");
        var job = await Cli.SubmitAsync(Seeded("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--reducers", "2"));
        Assert.True(job.ExitCode == 0, job.ToString());
        var dataId = Regex.Match(job.Output, @"--data-id (\S+)").Groups[1].Value;
        var execId = Regex.Match(job.Output, @"job (job-\S+) succeeded").Groups[1].Value;
        var blobs = Path.Combine(cluster.Store, "kvstore", "blobs");

        // The map runs go once the job has ended; the two result parts stay.
        var jobFolder = Path.Combine(blobs, "jobs", execId);
        await Cli.EventuallyAsync(() => !Directory.Exists(Path.Combine(jobFolder, "map")), TimeSpan.FromSeconds(10), $"{jobFolder}/map still exists");
        Assert.Equal(2, Directory.GetFiles(Path.Combine(jobFolder, "reduce"), "part-*", SearchOption.AllDirectories).Length);

        var listed = await Cli.SubmitAsync("datasets", "--store", cluster.Store);
        Assert.Matches($@"{dataId}  input  8 files, 8 chunks, \d+\.\d MB  created .*  from {Regex.Escape(Cli.Samples("data"))}", listed.Output);
        Assert.Contains($"result-{execId}  output 2 parts", listed.Output);

        var bytes = Directory.GetFiles(Cli.Samples("data")).Sum(f => new FileInfo(f).Length);
        var deleted = await Cli.SubmitAsync("delete", dataId, $"result-{execId}", "--cluster", cluster.Api);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Contains($"deleted dataset {dataId}: 8 chunks, {bytes / 1_000_000.0:0.0} MB", deleted.Output);
        Assert.Matches($@"deleted dataset result-{execId}: 2 chunks, \d+\.\d MB", deleted.Output);
        Assert.False(Directory.Exists(Path.Combine(blobs, "data", dataId)));
        Assert.False(Directory.Exists(jobFolder));
        var after = await Cli.SubmitAsync("datasets", "--store", cluster.Store);
        Assert.DoesNotContain(dataId, after.Output);
        Assert.DoesNotContain($"result-{execId}", after.Output);

        var reuse = await Cli.SubmitAsync(Seeded("--data-id", dataId, "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "again")));
        Assert.Equal(1, reuse.ExitCode);
        Assert.Equal($"error: dataset '{dataId}' is not in the store", reuse.Error.Trim());
        var again = await Cli.SubmitAsync("delete", dataId, "--cluster", cluster.Api);
        Assert.Equal(1, again.ExitCode);
        Assert.Equal($"error: dataset '{dataId}' is not in the store", again.Error.Trim());
        // In local mode the catalog file answers at once, without starting a cluster.
        var local = await Cli.SubmitAsync("delete", dataId, "--store", cluster.Store);
        Assert.Equal(2, local.ExitCode);
        Assert.Equal($"error: dataset '{dataId}' is not in the store at {cluster.Store} (the datasets command lists them)", local.Error.Trim());
        Assert.DoesNotContain("starting a local cluster", local.Output);
    }

    /// <summary>
    /// 5,000 small files (the sample books cut at line ends, some in subfolders): their chunk list
    /// once travelled in one RegisterDataset message of ~450 KB, which remoting (frames of at most
    /// 128,000 bytes) dropped without a word, and the submitter waited for a timeout. It travels as
    /// a manifest blob now; deleting the dataset deletes that too.
    /// </summary>
    [Fact]
    public async Task Word_count_on_5000_small_files_in_subfolders_gives_the_oracle_answer_and_lists_5000_files()
    {
        const int files = 5000;
        var input = await SmallFiles.WriteAsync(Path.Combine(_work, "many"), files);
        var expected = Oracle.WordCount(input);
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), expected); // cut at line ends: no word lost or split

        var output = Path.Combine(_work, "count");
        var watch = Stopwatch.StartNew();
        var job = await Cli.SubmitAsync(Seeded("-d", input, "-c", Cli.Samples("wordcount"), "-o", output, "--reducers", "2"));
        log.WriteLine($"5,000-file word count took {watch.Elapsed.TotalSeconds:0.0} s:\n{job.Output}");
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Contains($"uploaded {files} files", job.Output);
        Assert.Equal(expected, Oracle.ReadParts(output, 2));

        var dataId = Regex.Match(job.Output, @"--data-id (\S+)").Groups[1].Value;
        Assert.StartsWith("data-", dataId);
        var listed = await Cli.SubmitAsync("datasets", "--store", cluster.Store);
        Assert.Matches($@"{dataId}  input  {files} files, {files} chunks, \d+\.\d MB  created .*  from {Regex.Escape(input)}", listed.Output);

        var deleted = await Cli.SubmitAsync("delete", dataId, "--cluster", cluster.Api);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Contains($"deleted dataset {dataId}: {files} chunks", deleted.Output);
        Assert.False(Directory.Exists(Path.Combine(cluster.Store, "kvstore", "blobs", "data", dataId)), "chunks and manifest are gone, and their folder");
    }

    /// <summary>
    /// Two local clusters on one store would share a blob folder and a journal: a job given no
    /// --cluster on a store a local cluster runs on goes to that cluster instead of starting one.
    /// </summary>
    [Fact]
    public async Task A_job_without_cluster_on_a_store_a_local_cluster_runs_on_uses_that_cluster()
    {
        var nodes = Cli.NodeProcessesUsing(cluster.Store);
        var output = Path.Combine(_work, "out");
        var result = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--store", cluster.Store);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"using the local cluster running on {cluster.Store} ({cluster.Api.Split(',')[0]})", result.Output);
        Assert.DoesNotContain("starting a local cluster", result.Output);
        Assert.Equal(nodes.Order(), Cli.NodeProcessesUsing(cluster.Store).Order());
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 4));
    }

    /// <summary>A second kvstore node on a data folder another one owns would delete its half-written files and replace its id: it stops at once instead.</summary>
    [Fact]
    public async Task A_kvstore_node_on_a_folder_another_kvstore_owns_stops_with_one_line_and_touches_nothing()
    {
        var storeId = await File.ReadAllTextAsync(Path.Combine(cluster.Store, "kvstore", "store-id"));
        var result = await Cli.RunAsync("MapReduce.Node", ["--role", "kvstore", "--port", "0", "--cluster", cluster.Api, "--data-dir", cluster.Store], TimeSpan.FromSeconds(60));
        Assert.Equal(3, result.ExitCode);
        Assert.Equal($"error: the kvstore folder {Path.Combine(cluster.Store, "kvstore")} is in use by another kvstore process", result.Error.Trim());
        Assert.Equal(storeId, await File.ReadAllTextAsync(Path.Combine(cluster.Store, "kvstore", "store-id")));
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
