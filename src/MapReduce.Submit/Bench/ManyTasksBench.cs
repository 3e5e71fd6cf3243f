using System.Diagnostics;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Node;
using MapReduce.Storage.Catalog;
using MapReduce.Storage.Chunking;
using MapReduce.Submit.Client;

namespace MapReduce.Submit.Bench;

/// <summary>
/// `bench jobs --many-tasks`: what the master costs per task. Jobs of 200, 2,000 and 20,000 map
/// tasks, each task one tiny chunk (a line of about 700 bytes; split-size is made small so that no
/// two chunks share a task), on a local cluster; for each, the masters' CPU per task and the tasks
/// run per second. Each job runs twice on its uploaded input: the first run (upload, code compiled
/// on the workers) is not measured. The script's Map writes one pair per task, so the one reduce
/// task merges one run per map task (20,000 at most: in passes, mapreduce.shuffle-merge-factor) and
/// the output says how many tasks ran; what is measured is mostly the master handing out and
/// accounting for tasks, not a shuffle.
/// </summary>
public static class ManyTasksBench
{
    public static readonly int[] MapTasks = [200, 2_000, 20_000];
    private const int LineBytes = 700;
    /// <summary>A chunk holds at most this many bytes: one line, never two.</summary>
    private const int BlockSize = 1024;

    /// <summary>The script every job runs: each map task (one chunk) writes one pair, so the output counts them.</summary>
    private const string Script = """
        // bench jobs --many-tasks: one pair per map task, so the reduce merges one run per map task.
        IEnumerable<(string, int)> Map(string docId, string chunk) { yield return ("map tasks", 1); }

        int Reduce(string key, IEnumerable<int> values) => values.Sum();
        """;

    public static async Task<bool> RunAsync(JobsBenchOptions o, TextWriter output, CancellationToken ct)
    {
        var codeFile = Path.Combine(Path.GetFullPath(o.BenchFolder), "many-tasks-code", Actors.UserCode.ScriptCompiler.ScriptFileName);
        Directory.CreateDirectory(Path.GetDirectoryName(codeFile)!);
        File.WriteAllText(codeFile, Script);
        var config = Path.Combine(Path.GetFullPath(o.BenchFolder), "many-tasks.hocon");
        File.WriteAllText(config, (o.ConfigFile is { } extra ? File.ReadAllText(extra) + "\n" : "") +
            "# bench jobs --many-tasks: every chunk a map task of its own\nmapreduce.split-size = 1024\n");
        var settings = MapReduceSettings.From(MapReduceSettings.LoadConfig(config));
        var store = Path.Combine(o.BenchFolder, "many-tasks-store");
        BenchStore.Clear(store);
        var watch = Stopwatch.StartNew();
        await using var cluster = await LocalCluster.StartAsync(new LocalClusterOptions(store, o.Workers, o.TasksPerWorker, 0, config, settings.LocalMasters), ct);
        var node = new BenchClient(new ClusterApi(cluster.ApiUrls, cluster.Token, new ServerCertificateCheck(settings.Tls.ForClient()), settings.Client), settings.KvStoreShortCircuit);
        var catalog = new CatalogStore(SqlLocation.SqliteFile(Path.Combine(store, "catalog.db")));
        output.WriteLine($"many tasks: 1 kvstore, {settings.LocalMasters} masters, {o.Workers} workers x {o.TasksPerWorker} tasks, up in {BenchCommand.Seconds(watch.Elapsed)}; " +
            $"each map task one chunk of about {LineBytes} bytes and a Map that writes one pair, 1 reduce task");
        string? codeId = null;
        var perTask = new List<double>();
        foreach (var maps in MapTasks)
        {
            var folder = BenchInput.EnsureLines(o.BenchFolder, o.SamplesFolder, maps, LineBytes);
            var outputs = Path.Combine(o.BenchFolder, "jobs-out", $"many-{maps}");
            var first = await BenchCommand.RunJobAsync(node, new BenchJob(
                new RunJob(InputFolder.List(folder), folder, null, codeId is null ? codeFile : null, codeId, 1, BlockSize), outputs + "-first"), null, ct);
            codeId = first.CodeId;
            var cpu = JobsBenchCommand.MasterCpu(cluster);
            watch.Restart();
            var run = await BenchCommand.RunJobAsync(node, new BenchJob(new RunJob(null, null, first.DataId, null, codeId, 1, BlockSize), outputs), null, ct);
            var took = watch.Elapsed;
            cpu = JobsBenchCommand.MasterCpu(cluster) - cpu;
            var planned = catalog.GetJob(run.JobId!)?.MapTasks;
            if (planned != maps) throw new BenchException($"the input of {maps} lines made {planned} map tasks, not {maps}");
            string[] expected = [$"map tasks\t{maps}"];
            if (!JobsBenchCommand.Lines(first.OutputFiles).SequenceEqual(expected) || !JobsBenchCommand.Lines(run.OutputFiles).SequenceEqual(expected))
                throw new BenchException($"the job of {maps} map tasks did not write '{expected[0]}'");
            var tasks = maps + 1;
            perTask.Add(cpu.TotalMilliseconds / tasks);
            output.WriteLine($"{maps,6} map tasks: {BenchCommand.Seconds(took)}, {tasks / Math.Max(took.TotalSeconds, 0.001):0} tasks/s; " +
                $"masters {cpu.TotalSeconds:0.00} cpu seconds, {cpu.TotalMilliseconds / tasks:0.00} ms per task");
        }
        output.WriteLine($"masters' cpu per task: at most {perTask.Max():0.00} ms; largest over smallest {perTask.Max() / Math.Max(perTask.Min(), 0.001):0.00}x");
        return true;
    }
}
