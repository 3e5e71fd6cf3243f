namespace MapReduce.IntegrationTests;

/// <summary>The README's demo: MapReduce.Submit with no --seed starts its own local cluster of processes, runs the job and stops them.</summary>
[RunsAbout(72)]
public sealed class LocalModeTests : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Word_count_on_the_sample_books_matches_an_independent_count_and_leaves_no_process()
    {
        var store = Path.Combine(_work, "store");
        var output = Path.Combine(_work, "out");
        Directory.CreateDirectory(output);
        await File.WriteAllTextAsync(Path.Combine(output, "part-00009"), "stale part of an older run");

        var result = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--store", store, "--workers", "2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"output: {output} (4 parts)", result.Output);
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 4));
        Assert.Empty(Cli.NodeProcessesUsing(store));
        Assert.True(File.Exists(Path.Combine(store, "catalog.db")) && File.Exists(Path.Combine(store, "journal.db")));
        // Every process is on the kvstore's machine: workers read chunks from its folder directly.
        Assert.All(WorkerLogs(store), log => Assert.Contains($"blob bytes are read and written directly in the kvstore's folder {Path.Combine(store, "kvstore")} (short circuit)", log));
        // The whole cluster stops at once: the nodes down it rather than each waiting out its
        // cluster-exiting timeout to leave it (the old way logged "phase [cluster-exiting] timed out").
        var nodeLogs = Directory.GetFiles(Path.Combine(store, "logs"), "*.log").Select(File.ReadAllText).ToList();
        Assert.Equal(5, nodeLogs.Count);
        Assert.All(nodeLogs, log =>
        {
            Assert.Contains("CoordinatedShutdown invoked due to [Reason:", log);
            Assert.DoesNotContain("timed out", log);
        });
        Assert.Contains(nodeLogs, log => log.Contains("CoordinatedShutdown invoked due to [Reason:Akka.Actor.CoordinatedShutdown+ClusterDowningReason]"));

        // delete without --seed starts a cluster on the same store (no workers) to ask its master.
        var dataId = System.Text.RegularExpressions.Regex.Match(result.Output, @"--data-id (\S+)").Groups[1].Value;
        Assert.True(Directory.Exists(Path.Combine(store, "kvstore", "blobs", "data", dataId)));
        var delete = await Cli.SubmitAsync("delete", dataId, "--store", store);
        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Matches($@"deleted dataset {dataId}: 8 chunks, \d+\.\d MB", delete.Output);
        Assert.False(Directory.Exists(Path.Combine(store, "kvstore", "blobs", "data", dataId)));
        Assert.Empty(Cli.NodeProcessesUsing(store));
    }

    /// <summary>--keep-cluster leaves the local cluster up for the next job on the store, and it stops by itself once idle that long.</summary>
    [Fact]
    public async Task A_kept_local_cluster_serves_the_next_job_and_stops_once_idle()
    {
        var store = Path.Combine(_work, "store");
        var first = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "first"), "--store", store, "--keep-cluster", "10s");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains($"starting a local cluster (one process: kvstore, master and worker with 2 task slots) in {store}; it stops after 10 s idle", first.Output);
        Assert.NotEmpty(Cli.NodeProcessesUsing(store));

        var second = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "second"), "--store", store);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains($"using the local cluster running on {store} (http://127.0.0.1:", second.Output);
        Assert.DoesNotContain("starting a local cluster", second.Output);
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(Path.Combine(_work, "second"), 4));

        // Idle for 10 s (long enough for the second CLI to start on a loaded machine): the cluster stops and says why in its log.
        await Cli.AssertNoNodeProcessesLeftAsync(store);
        Assert.Contains("idle for 10 s", await File.ReadAllTextAsync(Path.Combine(store, "logs", "local.log")));
    }

    [Fact]
    public async Task Small_files_share_map_tasks_a_small_buffer_spills_and_the_output_is_still_exact()
    {
        var store = Path.Combine(_work, "store");
        var input = Directory.CreateDirectory(Path.Combine(_work, "small-files")).FullName;
        var output = Path.Combine(_work, "out");
        var config = Path.Combine(_work, "small-buffer.hocon");
        // 40 files of ~100 KB: each chunk counts 1 MiB more, against (40 x 1.15 MB) / 16 = 2.9 MB a
        // task, so two files share each map task. A few hundred distinct words per buffer: every task
        // spills. Blobs over the data channel, as between machines (the other tests short-circuit).
        WriteSmallFiles(input, 40, 100_000);
        await File.WriteAllTextAsync(config, "mapreduce.map-buffer-size = 64KiB\nmapreduce.kvstore.short-circuit = off");

        var result = await Cli.SubmitAsync("-d", input, "-c", Cli.Samples("wordcount"), "-o", output, "--store", store, "--config", config, "--workers", "2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("40 files", result.Output);
        Assert.Contains("20 map tasks", result.Output);
        Assert.Equal(Oracle.WordCount(input), Oracle.ReadParts(output, 4));
        var mapLines = WorkerLogs(store).SelectMany(log => log.Split('\n')).Where(l => l.Contains("/m000")).ToList();
        Assert.Equal(20, mapLines.Count);
        Assert.All(mapLines, l => Assert.Matches(@"map \d+ ms, store \d+ ms, 2 chunks \(\d+ spills to disk\)", l));
        Assert.All(WorkerLogs(store), log => Assert.Contains("blob bytes go over the kvstore's data channel", log));
        Assert.Empty(Cli.NodeProcessesUsing(store));
    }

    [Fact]
    public async Task With_log_format_json_every_line_a_node_writes_is_a_json_object()
    {
        var store = Path.Combine(_work, "store");
        var output = Path.Combine(_work, "out");
        var config = Path.Combine(_work, "json-logs.hocon");
        await File.WriteAllTextAsync(config, "mapreduce.log-format = json");

        var result = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--store", store, "--config", config);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 4));
        var lines = Directory.GetFiles(Path.Combine(store, "logs"), "*.log").SelectMany(File.ReadAllLines).Where(l => l.Length > 0).ToList();
        var messages = lines.Select(line =>
        {
            using var json = System.Text.Json.JsonDocument.Parse(line);
            var root = json.RootElement;
            Assert.True(root.TryGetProperty("time", out _) && root.TryGetProperty("level", out _) && root.TryGetProperty("source", out _), line);
            return root.GetProperty("message").GetString()!;
        }).ToList();
        // The ready line the CLI waited for, Akka's own log and a task's line, all as JSON.
        Assert.Contains(messages, m => m.StartsWith(MapReduce.Node.NodeHost.ReadyLine + " roles=kvstore,master,worker", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("Remoting started", StringComparison.Ordinal));
        Assert.Contains(messages, m => System.Text.RegularExpressions.Regex.IsMatch(m, @"/m00000\.1: code \d+ ms, fetch \d+ ms, map \d+ ms"));
        Assert.Empty(Cli.NodeProcessesUsing(store));
    }

    private static List<string> WorkerLogs(string store)
    {
        var logs = Directory.GetFiles(Path.Combine(store, "logs"), "worker-*.log").Select(File.ReadAllText).ToList();
        Assert.Equal(2, logs.Count);
        return logs;
    }

    /// <summary>Whole lines of the sample books, about <paramref name="bytes"/> per file.</summary>
    private static void WriteSmallFiles(string folder, int files, int bytes)
    {
        var lines = Directory.GetFiles(Cli.Samples("data")).Order(StringComparer.Ordinal).SelectMany(File.ReadLines).ToList();
        var next = 0;
        for (var i = 0; i < files; i++)
        {
            using var writer = new StreamWriter(Path.Combine(folder, $"part-{i:D2}.txt"));
            for (var written = 0; written < bytes; next = (next + 1) % lines.Count)
            {
                writer.Write(lines[next]);
                writer.Write('\n');
                written += lines[next].Length + 1;
            }
        }
    }
}
