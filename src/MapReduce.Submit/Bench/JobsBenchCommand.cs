using System.Diagnostics;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Node;
using MapReduce.Storage.Catalog;
using MapReduce.Storage.Chunking;
using MapReduce.Submit.Client;

namespace MapReduce.Submit.Bench;

public sealed record JobsBenchOptions(
    int Jobs,
    int Clients,
    long BigBytes,
    int Workers,
    int TasksPerWorker,
    string CodeFolder,
    string SamplesFolder,
    string BenchFolder,
    string? ConfigFile,
    bool Failover,
    bool ManyTasks = false);

/// <summary>
/// The master under many jobs, on a local cluster: a tiny job submitted while a big one runs
/// (fair share), then a burst of tiny jobs from several clients at once (jobs/s, every output
/// checked, every task run exactly once), the master's CPU and memory, and with --failover the
/// time the standby master takes over after the active one is SIGKILLed with that history behind it.
/// With --many-tasks, instead: the master's cost per task, on jobs of many tiny map tasks (<see cref="ManyTasksBench"/>).
/// </summary>
public static class JobsBenchCommand
{
    public static async Task<int> RunAsync(JobsBenchOptions o, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (o.Jobs < 0 || o.Clients < 1 || o.Workers < 1 || o.TasksPerWorker < 1)
        {
            error.WriteLine("error: --jobs must not be negative; --clients, --workers and --tasks-per-worker must be at least 1");
            return ExitCodes.UsageError;
        }
        return await BenchErrors.ExitCodeOfAsync(() => RunCheckedAsync(o, output, ct), error);
    }

    private static async Task<int> RunCheckedAsync(JobsBenchOptions o, TextWriter output, CancellationToken ct)
    {
        var config = MapReduceSettings.LoadConfig(o.ConfigFile);
        var settings = MapReduceSettings.From(config);
        var codeFile = Path.Combine(o.CodeFolder, Actors.UserCode.ScriptCompiler.ScriptFileName);
        if (!File.Exists(codeFile)) throw new BenchInputException($"code folder '{o.CodeFolder}' has no task.csx");
        Directory.CreateDirectory(o.BenchFolder);
        output.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        if (o.ManyTasks) return await ManyTasksBench.RunAsync(o, output, ct) ? ExitCodes.Ok : ExitCodes.JobFailed;
        var tinyFolder = BenchInput.EnsureTiny(o.BenchFolder, o.SamplesFolder);
        var store = Path.Combine(o.BenchFolder, "jobs-store");
        BenchStore.Clear(store);
        var watch = Stopwatch.StartNew();
        await using var cluster = await LocalCluster.StartAsync(new LocalClusterOptions(store, o.Workers, o.TasksPerWorker, 0, o.ConfigFile, settings.LocalMasters), ct);
        var node = new BenchClient(new ClusterApi(cluster.ApiUrls, cluster.Token, new ServerCertificateCheck(settings.Tls.ForClient()), settings.Client), settings.KvStoreShortCircuit);
        output.WriteLine($"cluster: 1 kvstore, {settings.LocalMasters} masters, {o.Workers} workers x {o.TasksPerWorker} tasks, up in {BenchCommand.Seconds(watch.Elapsed)}; scheduling {settings.Master.Scheduling}");

        var first = await BenchCommand.RunJobAsync(node, new BenchJob(new RunJob(InputFolder.List(tinyFolder), tinyFolder, null, codeFile, null, 1, settings.BlockSize), Path.Combine(o.BenchFolder, "jobs-out", "first")), null, ct);
        var expected = Lines(first.OutputFiles);
        var tiny = new BenchJob(new RunJob(null, null, first.DataId, null, first.CodeId, 1, settings.BlockSize), "");

        if (o.BigBytes > 0) await TinyBesideBigAsync(o, node, tiny, settings, output, ct);

        var masterCpu = MasterCpu(cluster);
        watch.Restart();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, o.Clients).Select(client => Task.Run(async () =>
        {
            var mine = new List<JobOutcome>();
            for (var j = client; j < o.Jobs; j += o.Clients)
                mine.Add(await BenchCommand.RunJobAsync(node, tiny with { OutputFolder = Path.Combine(o.BenchFolder, "jobs-out", $"job-{j:D5}") }, null, ct));
            return mine;
        }, ct)));
        var burst = watch.Elapsed;
        var jobs = outcomes.SelectMany(x => x).ToList();
        var wrong = jobs.Count(j => !Lines(j.OutputFiles).SequenceEqual(expected));
        var distinct = jobs.Select(j => j.JobId).Distinct().Count();
        var twice = RunTwice(new CatalogStore(SqlLocation.SqliteFile(Path.Combine(store, "catalog.db"))), jobs.Select(j => j.JobId!));
        var cpu = MasterCpu(cluster) - masterCpu;
        output.WriteLine($"burst: {jobs.Count} tiny jobs from {o.Clients} clients in {BenchCommand.Seconds(burst)}: {(jobs.Count / Math.Max(burst.TotalSeconds, 0.001)):0.0} jobs/s; " +
            $"{distinct} distinct job ids, {wrong} with wrong output, {twice} tasks with more than one successful attempt");
        output.WriteLine($"masters: {cpu.TotalSeconds:0.00} cpu seconds during the burst; " +
            string.Join(", ", cluster.Nodes.Where(n => n.Roles == NodeRoles.Master).Select(n => $"{n.Name} {PeakMemory.Megabytes(Resident(n))} resident, peak {PeakMemory.Megabytes(PeakMemory.Of(n.Process))}")));

        if (o.Failover) await FailoverAsync(cluster, output, ct);
        return wrong == 0 && distinct == o.Jobs && twice == 0 ? ExitCodes.Ok : ExitCodes.JobFailed;
    }

    /// <summary>Starts a big job, waits until its maps run, then times a tiny job submitted beside it.</summary>
    private static async Task TinyBesideBigAsync(JobsBenchOptions o, BenchClient node, BenchJob tiny, MapReduceSettings settings, TextWriter output, CancellationToken ct)
    {
        // The bench's big input (64 files, as `bench` makes it) and a 20 KB job beside it.
        var bigFolder = BenchInput.Ensure(o.BenchFolder, o.SamplesFolder, o.BigBytes, 64);
        var smallFolder = BenchInput.EnsureTiny(o.BenchFolder, o.SamplesFolder, 20_000);
        tiny = tiny with { Job = tiny.Job with { Documents = InputFolder.List(smallFolder), DataSource = smallFolder, DataId = null } };
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bigWatch = Stopwatch.StartNew();
        var big = node.RunAsync(new BenchJob(new RunJob(InputFolder.List(bigFolder), bigFolder, null, null, tiny.Job.CodeId, settings.Reducers, settings.BlockSize), Path.Combine(o.BenchFolder, "jobs-out", "big")),
            p => { if (p is Progressed) running.TrySetResult(); }, ct);
        await Task.WhenAny(running.Task, big);
        var watch = Stopwatch.StartNew();
        var phases = new PhaseClock();
        await BenchCommand.RunJobAsync(node, tiny with { OutputFolder = Path.Combine(o.BenchFolder, "jobs-out", "beside-big") }, phases, ct);
        var tinyTime = watch.Elapsed;
        var bigStillRunning = !big.IsCompleted;
        var bigOutcome = await big;
        if (!bigOutcome.Succeeded) throw new BenchException($"the big job failed: {bigOutcome.Message}");
        output.WriteLine($"tiny job (20 KB) beside a big one ({o.BigBytes / 1_000_000} MB): {BenchCommand.Seconds(phases.JobTime)} of job time, {BenchCommand.Seconds(tinyTime)} from upload to output written; " +
            $"the big job {(bigStillRunning ? "was still running" : "had already finished")} then and took {BenchCommand.Seconds(bigWatch.Elapsed)}");
    }

    /// <summary>SIGKILLs the master holding the singleton and times the standby's take-over (from its log).</summary>
    private static async Task FailoverAsync(LocalCluster cluster, TextWriter output, CancellationToken ct)
    {
        var masters = cluster.Nodes.Where(n => n.Roles == NodeRoles.Master).ToList();
        var active = masters.OrderByDescending(m => Read(m.LogFile).LastIndexOf("job master recovered", StringComparison.Ordinal) >= 0 ? 1 : 0).First();
        var standby = masters.First(m => m != active);
        var before = Read(standby.LogFile).Length;
        var watch = Stopwatch.StartNew();
        LocalCluster.Kill(active);
        while (watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            var fresh = Read(standby.LogFile)[before..];
            var line = fresh.Split('\n').FirstOrDefault(l => l.Contains("job master recovered", StringComparison.Ordinal));
            if (line is not null)
            {
                var took = watch.Elapsed;
                await Task.Delay(TimeSpan.FromSeconds(2), ct); // let it settle before reading its memory
                output.WriteLine($"failover: {standby.Name} took over {BenchCommand.Seconds(took)} after {active.Name} was SIGKILLed ({line.Trim()[(line.IndexOf("job master", StringComparison.Ordinal))..]}); " +
                    $"{standby.Name} then {PeakMemory.Megabytes(Resident(standby))} resident");
                return;
            }
            await Task.Delay(50, ct);
        }
        throw new BenchException($"{standby.Name} did not take over within 60 s of {active.Name}'s SIGKILL");
    }

    /// <summary>Tasks of these jobs that the catalog shows with more than one successful attempt (the master accepts one per task).</summary>
    private static int RunTwice(CatalogStore catalog, IEnumerable<string> jobs) =>
        jobs.Sum(job => catalog.GetExecutions(job).Where(e => e.Status == ExecutionStatus.Success).GroupBy(e => e.TaskId).Count(g => g.Count() > 1));

    internal static List<string> Lines(IReadOnlyList<string> parts) => parts.SelectMany(File.ReadAllLines).Order(StringComparer.Ordinal).ToList();

    /// <summary>The CPU time the master processes have used so far.</summary>
    internal static TimeSpan MasterCpu(LocalCluster cluster) => cluster.Nodes.Where(n => n.Roles == NodeRoles.Master)
        .Aggregate(TimeSpan.Zero, (sum, n) => { n.Process.Refresh(); return sum + n.Process.TotalProcessorTime; });

    private static long Resident(NodeProcess node)
    {
        node.Process.Refresh();
        return node.Process.WorkingSet64;
    }

    private static string Read(string file)
    {
        using var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd();
    }
}
