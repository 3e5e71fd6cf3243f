using MapReduce.Storage.Catalog;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>One local cluster shared by the classes that submit to a standing cluster (run one after another).</summary>
[RunsAbout(150)]
[CollectionDefinition(Name)]
public sealed class StandingCluster : ICollectionFixture<RunningCluster>
{
    public const string Name = "standing cluster";
}

/// <summary>Jobs submitted with --cluster to one running local cluster: reuse of stored data, status, many small files, user-code failures.</summary>
[Collection(StandingCluster.Name)]
public sealed class RunningClusterTests(RunningCluster cluster, ITestOutputHelper log) : IDisposable
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

        var execId = second.SucceededJob;
        var status = await Cli.RunAsync("MapReduce.Submit", ["status", execId, "--store", cluster.Store], TimeSpan.FromSeconds(60));
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("state     succeeded", status.Output);
        Assert.Contains($"input     {dataId}", status.Output);
        Assert.Contains("map       8 tasks, 8 attempts: succeeded=8", status.Output);
        Assert.Contains("reduce    2 tasks, 2 attempts: succeeded=2", status.Output);
        var list = await Cli.RunAsync("MapReduce.Submit", ["status", "--store", cluster.Store], TimeSpan.FromSeconds(60));
        Assert.Matches($@"(?m)^{execId} +succeeded +map 8/8 reduce 2/2 ", list.Output);
    }

    /// <summary>
    /// A word count whose Map counts words and prints a line: the catalog holds the job's counters,
    /// each against a value computed here without the framework, and the store keeps each map
    /// attempt's log after the job's intermediate data is gone.
    /// </summary>
    [Fact]
    public async Task Word_count_counters_are_in_the_catalog_and_each_map_attempt_log_stays_in_the_store()
    {
        var code = Directory.CreateDirectory(Path.Combine(_work, "counting")).FullName;
        await File.WriteAllTextAsync(Path.Combine(code, "task.csx"), """
            IEnumerable<(string, int)> Map(string docId, string chunk)
            {
                Console.WriteLine($"mapping {docId}");
                var start = -1;
                for (var i = 0; i <= chunk.Length; i++)
                {
                    var isLetter = i < chunk.Length && char.IsLetter(chunk[i]);
                    if (isLetter && start < 0) start = i;
                    else if (!isLetter && start >= 0)
                    {
                        Count("words");
                        yield return (chunk.Substring(start, i - start), 1);
                        start = -1;
                    }
                }
            }
            int Combine(string word, IEnumerable<int> counts) => counts.Sum();
            int Reduce(string word, IEnumerable<int> counts) => counts.Sum();
            """);
        var input = Cli.Samples("data");
        var output = Path.Combine(_work, "count");
        var job = await Cli.SubmitAsync(Seeded("-d", input, "-c", code, "-o", output, "--reducers", "2"));
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Equal(Oracle.WordCount(input), Oracle.ReadParts(output, 2));
        var execId = job.SucceededJob;

        // Independently: the sample files have no BOM and end with a newline; each is one chunk, so one map task.
        var files = Directory.GetFiles(input).Order(StringComparer.Ordinal).ToArray();
        var words = files.Select(f => Regex.Matches(File.ReadAllText(f), @"\p{L}+").Select(m => m.Value).ToList()).ToList();
        var distinct = words.SelectMany(w => w).Distinct(StringComparer.Ordinal).Count();
        var catalog = new MapReduce.Storage.Catalog.CatalogStore(MapReduce.Storage.Catalog.SqlLocation.SqliteFile(Path.Combine(cluster.Store, "catalog.db")));
        await Cli.EventuallyAsync(() => catalog.GetCounters(execId).Totals.GetValueOrDefault("reduce.output.pairs") == distinct, TimeSpan.FromSeconds(10),
            "the reduce counters did not reach the catalog");
        var totals = catalog.GetCounters(execId).Totals.ToDictionary();
        // A backup attempt for a straggler (a loaded machine makes some) is one attempt more, counted apart.
        var backups = totals.GetValueOrDefault(AttemptCounters.BackupsLaunched);
        totals.Remove(AttemptCounters.BackupsLaunched);
        totals.Remove(AttemptCounters.BackupsWon);
        var expected = new Dictionary<string, long>
        {
            ["attempts"] = files.Length + 2 + backups, ["attempts.failed"] = 0, ["attempts.lost"] = 0,
            ["map.input.bytes"] = files.Sum(f => new FileInfo(f).Length),
            ["map.input.lines"] = files.Sum(f => File.ReadAllText(f).Count(c => c == '\n')),
            ["map.output.pairs"] = words.Sum(w => w.Count),
            ["combine.input"] = words.Sum(w => w.Count),
            ["combine.output"] = words.Sum(w => w.Distinct(StringComparer.Ordinal).Count()),
            ["spilled.pairs"] = 0,
            // The runs are gone by now: what the maps stored is what the reduces read, checked below.
            ["map.output.bytes"] = totals.GetValueOrDefault("shuffle.bytes"),
            ["shuffle.bytes"] = totals.GetValueOrDefault("shuffle.bytes"),
            ["reduce.groups"] = distinct,
            ["reduce.output.pairs"] = distinct,
            ["reduce.output.bytes"] = Directory.GetFiles(output, "part-*").Sum(f => new FileInfo(f).Length),
            ["user.words"] = words.Sum(w => w.Count),
        };
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), totals.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.True(totals["shuffle.bytes"] > 0);

        // The logs outlive the clean-up of the job's map runs: one per map attempt (each printed), none for the silent reduces.
        var blobs = Path.Combine(cluster.Store, "kvstore", "blobs");
        // Within 10 s of the end, backup attempts or not: one that lost the race is stopped, and runs it
        // stores after the job's clean-up are deleted as they land (the job's folder is fenced, JobFence).
        await Cli.EventuallyAsync(() => !Directory.Exists(Path.Combine(blobs, "jobs", execId, "map")), TimeSpan.FromSeconds(10), $"the map runs are still there ({backups} backup attempts)");
        var logs = Directory.GetFiles(Path.Combine(blobs, "logs", execId)).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToList();
        var printed = Directory.GetFiles(Path.Combine(blobs, "logs", execId)).Select(File.ReadAllText).Order(StringComparer.Ordinal).ToList();
        if (backups == 0)
        {
            Assert.Equal(Enumerable.Range(0, files.Length).Select(i => $"m{i:D5}.1.log"), logs);
            Assert.Equal(files.Select(f => $"mapping {Path.GetFileName(f)}\n"), printed);
        }
        else
        {
            // A backup attempt for a straggler (a loaded machine makes some) logs too, and the attempt that
            // lost the race may have been stopped before it stored its log: each task has a log of one of its attempts.
            var tasksLogged = logs.Select(l => l[..l.IndexOf('.')]).ToHashSet(StringComparer.Ordinal);
            Assert.Equal(Enumerable.Range(0, files.Length).Select(i => $"m{i:D5}").ToHashSet(), tasksLogged);
            Assert.All(logs, l => Assert.Matches(@"^m\d{5}\.\d+\.log$", l));
            Assert.InRange(logs.Count, files.Length, files.Length + backups);
            Assert.Equal(files.Select(f => $"mapping {Path.GetFileName(f)}\n").ToHashSet(), printed.ToHashSet());
        }

        // What a person sees: the counters at the end of the job and in `status`, one per line; the logs through `logs`.
        Assert.Matches($@"(?m)^  user\.words +{words.Sum(w => w.Count):N0}$", job.Output);
        var status = await Cli.SubmitAsync(Seeded("status", execId));
        foreach (var (name, value) in expected)
            Assert.Matches($@"(?m)^  {Regex.Escape(name)} +{value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)}$", status.Output);
        var statusJson = await Cli.SubmitAsync(Seeded("status", execId, "--json"));
        using (var parsed = System.Text.Json.JsonDocument.Parse(statusJson.Output))
        {
            Assert.Equal(words.Sum(w => w.Count), parsed.RootElement.GetProperty("counters").GetProperty("user.words").GetInt64());
            var bytes = parsed.RootElement.GetProperty("partitionBytes").EnumerateArray().Select(b => b.GetInt64()).ToArray();
            Assert.Equal(Directory.GetFiles(output, "part-*").Order(StringComparer.Ordinal).Select(f => new FileInfo(f).Length), bytes);
        }
        var taskLog = await Cli.SubmitAsync(Seeded("logs", execId, "--task", "m00001"));
        Assert.True(taskLog.ExitCode == 0, taskLog.ToString());
        Assert.Matches($@"^==> m00001\.1 \(succeeded, on akka\.tcp://\S+\) <==\nmapping {Regex.Escape(Path.GetFileName(files[1]))}\n$", taskLog.Output.Replace("\r", ""));
        var none = await Cli.SubmitAsync(Seeded("logs", execId, "--task", "r00000"));
        Assert.Equal("==> r00000.1 (succeeded, on ", none.Output[..28]);
        Assert.EndsWith("<==\n(nothing printed)\n", none.Output.Replace("\r", ""));
    }

    [Fact]
    public async Task A_finished_job_leaves_only_its_result_and_a_deleted_dataset_is_gone_and_refused()
    {
        var output = Path.Combine(_work, "count");
        var job = await Cli.SubmitAsync(Seeded("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--reducers", "2"));
        Assert.True(job.ExitCode == 0, job.ToString());
        var dataId = Regex.Match(job.Output, @"--data-id (\S+)").Groups[1].Value;
        var execId = job.SucceededJob;
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
        // Given only the store, the command finds the cluster running on it.
        var local = await Cli.SubmitAsync("delete", dataId, "--store", cluster.Store);
        Assert.Equal(1, local.ExitCode);
        Assert.Equal($"error: dataset '{dataId}' is not in the store", local.Error.Trim());
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
        var result = await Cli.RunAsync("MapReduce.Node", ["--role", "kvstore", "--port", "0", "--seed", cluster.Seed, "--data-dir", cluster.Store], TimeSpan.FromSeconds(60));
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

        // Each failed attempt left its log (the error, then the exception and its frames in task.csx), and the job's clean-up kept them.
        var execId = Regex.Match(result.Error, @"job (job-\S+) failed").Groups[1].Value;
        var logs = Path.Combine(cluster.Store, "kvstore", "blobs", "logs", execId);
        var task = Regex.Match(result.Error, @"map task (m\d{5})").Groups[1].Value;
        await Cli.EventuallyAsync(() => !Directory.Exists(Path.Combine(cluster.Store, "kvstore", "blobs", "jobs", execId)), TimeSpan.FromSeconds(30), "the failed job's data is still there");
        foreach (var attempt in new[] { 1, 2, 3 })
        {
            var log = await File.ReadAllTextAsync(Path.Combine(logs, $"{task}.{attempt}.log"));
            Assert.StartsWith("""
                attempt failed (UserCode): Map threw on document 'pg-grimm.txt', chunk 0: InvalidOperationException: no fairy tales
                System.InvalidOperationException: no fairy tales
                   at Submission#0+<Map>
                """.ReplaceLineEndings("\n"), log);
        }
    }
}
