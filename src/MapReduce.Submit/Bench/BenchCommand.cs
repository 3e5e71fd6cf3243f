using System.Diagnostics;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.UserCode;
using MapReduce.Node;
using MapReduce.Storage.Chunking;
using MapReduce.Submit.Client;

namespace MapReduce.Submit.Bench;

public sealed record BenchOptions(
    long Bytes,
    int Files,
    int Workers,
    int TasksPerWorker,
    string CodeFolder,
    string SamplesFolder,
    string BenchFolder,
    int TinyRuns,
    string? ConfigFile,
    int Runs = 3,
    int Warmups = 1);

/// <summary>
/// The speed benchmark: word count (or any task.csx) over generated input, sequentially in this
/// process and through a local cluster, with the same code, <see cref="BenchOptions.Runs"/> times
/// each after <see cref="BenchOptions.Warmups"/> untimed runs (this machine is noisy, so it compares
/// medians of steady-state runs); prints wall times, MB/s, the ratio,
/// tiny-job latency and peak memory of every process, and checks the outputs match.
/// </summary>
public static class BenchCommand
{
    public static async Task<int> RunAsync(BenchOptions o, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (Invalid(o) is { } mistake)
        {
            error.WriteLine($"error: {mistake}");
            return ExitCodes.UsageError;
        }
        try
        {
            return await RunCheckedAsync(o, output, error, ct);
        }
        catch (BenchInputException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.UsageError;
        }
        catch (Exception e) when (e is BenchException or CompileErrorException or UserCodeException)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.JobFailed;
        }
        catch (Exception e) when (e is LocalClusterException or TimeoutException)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.ClusterError;
        }
    }

    private static string? Invalid(BenchOptions o) =>
        o.Files < 1 ? "--files must be at least 1"
        : o.Workers < 1 ? "--workers must be at least 1"
        : o.TasksPerWorker < 1 ? "--tasks-per-worker must be at least 1"
        : o.TinyRuns < 0 ? "--tiny-runs must not be negative"
        : o.Runs < 1 ? "--runs must be at least 1"
        : o.Warmups < 0 ? "--warmups must not be negative"
        : o.Bytes / o.Files < 1000 ? $"--size {o.Bytes} B over {o.Files} files leaves less than 1 KB per file"
        : null;

    private static async Task<int> RunCheckedAsync(BenchOptions o, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var config = MapReduceSettings.LoadConfig(o.ConfigFile);
        var settings = MapReduceSettings.From(config);
        var codeFile = Path.Combine(o.CodeFolder, ScriptCompiler.ScriptFileName);
        if (!File.Exists(codeFile))
        {
            error.WriteLine($"error: code folder '{o.CodeFolder}' has no {ScriptCompiler.ScriptFileName}");
            return ExitCodes.UsageError;
        }
        Directory.CreateDirectory(o.BenchFolder);
        output.WriteLine($"machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        var watch = Stopwatch.StartNew();
        var inputFolder = BenchInput.Ensure(o.BenchFolder, o.SamplesFolder, o.Bytes, o.Files);
        var tinyFolder = BenchInput.EnsureTiny(o.BenchFolder, o.SamplesFolder);
        var documents = InputFolder.List(inputFolder);
        var inputBytes = documents.Sum(d => d.Length);
        output.WriteLine($"input: {Mb(inputBytes)} in {documents.Count} files at {inputFolder} (ready in {watch.Elapsed.TotalSeconds:0.0} s)");

        // Sequential baseline: compile first (once per process, as on a worker), then time the job alone.
        var sequentialOutput = Path.Combine(o.BenchFolder, "sequential.txt");
        watch.Restart();
        var compiled = ScriptCompiler.Compile(await File.ReadAllTextAsync(codeFile, ct));
        var compileTime = watch.Elapsed;
        PeakMemory.ResetSelf();
        var allSequentialTimes = new List<TimeSpan>();
        long lines = 0;
        for (var run = 0; run < o.Warmups + o.Runs; run++)
        {
            watch.Restart();
            lines = SequentialJob.Run(compiled, documents, sequentialOutput, Path.Combine(o.BenchFolder, "sequential-scratch"), settings.Shuffle.MapBufferBytes);
            allSequentialTimes.Add(watch.Elapsed);
        }
        var sequentialTimes = allSequentialTimes.Skip(o.Warmups).ToList();
        var sequentialTime = Median(sequentialTimes);
        var sequentialPeak = PeakMemory.Of(Process.GetCurrentProcess());
        // The classic Unix word count on the same files, in the same run: the bar a shuffle without a combiner is held to.
        var files = string.Join(' ', documents.Select(d => ShellBaseline.Quote(d.FullPath)));
        var unixTimes = new List<TimeSpan>();
        for (var run = 0; run < o.Runs; run++)
            unixTimes.Add(await ShellBaseline.TimeAsync($"cat {files} | tr -cs A-Za-z '\\n' | sort | uniq -c > /dev/null", ct));
        var unixTime = Median(unixTimes);
        output.WriteLine($"LC_ALL=C tr -cs A-Za-z '\\n' | sort | uniq -c: {Seconds(unixTime)} ({RunsOf(unixTimes)})");
        output.WriteLine($"sequential: {Seconds(sequentialTime)}, {Rate(inputBytes, sequentialTime)}, {lines} lines, peak {PeakMemory.Megabytes(sequentialPeak)} ({RunsOf(sequentialTimes)}{WarmupsOf(allSequentialTimes.Take(o.Warmups))}; compile {Seconds(compileTime)}, not counted)");
        PeakMemory.ResetSelf();

        var store = Path.Combine(o.BenchFolder, "store");
        BenchStore.Clear(store);
        watch.Restart();
        await using var cluster = await LocalCluster.StartAsync(new LocalClusterOptions(store, o.Workers, o.TasksPerWorker, 0, o.ConfigFile, settings.LocalMasters), ct);
        var node = new BenchClient(new ClusterApi(cluster.ApiUrls, cluster.Token, new ServerCertificateCheck(settings.Tls.ForClient()), settings.Client), settings.KvStoreShortCircuit);
        output.WriteLine($"cluster: 1 kvstore, {settings.LocalMasters} masters, {o.Workers} workers x {o.TasksPerWorker} tasks, up and joined in {Seconds(watch.Elapsed)}");

        // First job: uploads the code and makes every worker compile it; not counted.
        var tinyDocs = InputFolder.List(tinyFolder);
        watch.Restart();
        var first = await RunJobAsync(node, new BenchJob(new RunJob(tinyDocs, tinyFolder, null, codeFile, null, settings.Reducers, settings.BlockSize), Path.Combine(o.BenchFolder, "out-tiny")), null, ct);
        output.WriteLine($"first job (code upload and compile on workers): {Seconds(watch.Elapsed)}");
        var codeId = first.CodeId!;

        var tiny = new List<TimeSpan>();
        for (var i = 0; i < o.TinyRuns; i++)
        {
            watch.Restart();
            await RunJobAsync(node, new BenchJob(new RunJob(tinyDocs, tinyFolder, null, null, codeId, settings.Reducers, settings.BlockSize), Path.Combine(o.BenchFolder, "out-tiny")), null, ct);
            tiny.Add(watch.Elapsed);
        }
        if (tiny.Count > 0)
            output.WriteLine($"tiny job ({Mb(tinyDocs.Sum(d => d.Length), 3)} uploaded, compiled code), submit to output written: median {Ms(Median(tiny))}, min {Ms(tiny.Min())}, max {Ms(tiny.Max())} over {tiny.Count} runs");

        // Each run uploads the input again: a real job end to end, not one over data already stored.
        // Then it deletes that upload (not timed), as a user of a long-lived store would: the store
        // stays one input large, and the next upload reuses the memory the last one freed instead of
        // touching new memory, which costs a VM far more (docs/speed.md).
        var allClusterRuns = new List<(TimeSpan Time, PhaseClock Phases, string Cpu, JobOutcome Outcome)>();
        for (var run = 0; run < o.Warmups + o.Runs; run++)
        {
            var cpuBefore = CpuTimes(cluster);
            var phases = new PhaseClock();
            watch.Restart();
            var job = await RunJobAsync(node, new BenchJob(new RunJob(documents, inputFolder, null, null, codeId, settings.Reducers, settings.BlockSize), Path.Combine(o.BenchFolder, "out-cluster")), phases, ct);
            var time = watch.Elapsed;
            var cpuAfter = CpuTimes(cluster);
            try { await node.Api.DeleteDatasetAsync(job.DataId!, ct); }
            catch (ApiException e) { throw new BenchException($"deleting the run's input failed: {e.Message}"); }
            allClusterRuns.Add((time, phases, string.Join(", ", cpuAfter.Select(c => $"{c.Key} {(c.Value - cpuBefore[c.Key]).TotalSeconds:0.00}")), job));
        }
        var clusterRuns = allClusterRuns.Skip(o.Warmups).ToList();
        var median = MedianBy(clusterRuns, r => r.Time);
        var clusterTime = median.Time;
        var ratio = clusterTime / sequentialTime;
        var unixRatio = clusterTime / unixTime;
        output.WriteLine($"cluster: {Seconds(clusterTime)}, {Rate(inputBytes, clusterTime)}, ratio cluster/sequential {ratio:0.00}, cluster/tr|sort|uniq {unixRatio:0.00} ({RunsOf(clusterRuns.Select(r => r.Time).ToList())}{WarmupsOf(allClusterRuns.Take(o.Warmups).Select(r => r.Time))})");
        for (var run = 0; run < allClusterRuns.Count; run++)
        {
            var name = run < o.Warmups ? $"warm-up {run + 1}" : $"run {run - o.Warmups + 1}";
            output.WriteLine($"  {name}: {Seconds(allClusterRuns[run].Time)}: {allClusterRuns[run].Phases.Describe()}; cpu seconds: {allClusterRuns[run].Cpu}");
        }
        var outcome = median.Outcome;

        var peaks = cluster.Nodes.Select(n => (n.Name, Peak: PeakMemory.Of(n.Process))).ToList();
        peaks.Add(("submitter (this process)", PeakMemory.Of(Process.GetCurrentProcess())));
        output.WriteLine("peak memory: " + string.Join(", ", peaks.Select(p => $"{p.Name} {PeakMemory.Megabytes(p.Peak)}")));

        var same = SameLines(sequentialOutput, outcome.OutputFiles, out var detail);
        output.WriteLine(same ? $"outputs: identical ({detail})" : $"outputs: DIFFERENT ({detail})");

        var gb = 1_000_000_000L;
        output.WriteLine("targets: " + string.Join("; ", new[]
        {
            o.Bytes <= 200_000_000 ? Target($"{Mb(inputBytes)} end to end under 10 s", clusterTime < TimeSpan.FromSeconds(10)) : null,
            Target("cluster at most 0.7x sequential", ratio <= 0.7),
            Target("cluster at most 0.7x tr|sort|uniq", unixRatio <= 0.7),
            tiny.Count > 0 ? Target("tiny job under 300 ms", Median(tiny) < TimeSpan.FromMilliseconds(300)) : null,
            Target("every node under 1 GB peak", peaks.All(p => p.Peak < gb)),
        }.OfType<string>()));
        return same ? ExitCodes.Ok : ExitCodes.JobFailed;
    }

    private static Dictionary<string, TimeSpan> CpuTimes(LocalCluster cluster)
    {
        var times = cluster.Nodes.ToDictionary(n => n.Name, n => { n.Process.Refresh(); return n.Process.TotalProcessorTime; });
        times["submitter"] = Process.GetCurrentProcess().TotalProcessorTime;
        return times;
    }

    /// <summary>Runs one job of a benchmark; one that fails ends the benchmark with its message.</summary>
    internal static async Task<JobOutcome> RunJobAsync(BenchClient node, BenchJob job, PhaseClock? phases, CancellationToken ct)
    {
        var outcome = await node.RunAsync(job, p => phases?.Record(p), ct);
        if (!outcome.Succeeded) throw new BenchException($"job failed: {outcome.Message}");
        return outcome;
    }

    /// <summary>Both outputs hold the same lines (the cluster's are spread over parts, each part in key order).</summary>
    private static bool SameLines(string sequentialFile, IReadOnlyList<string> parts, out string detail)
    {
        var expected = File.ReadAllLines(sequentialFile);
        var actual = parts.SelectMany(File.ReadAllLines).ToArray();
        Array.Sort(expected, StringComparer.Ordinal);
        Array.Sort(actual, StringComparer.Ordinal);
        if (expected.SequenceEqual(actual))
        {
            detail = $"{expected.Length} lines";
            return true;
        }
        var (left, right) = expected.Zip(actual).FirstOrDefault(pair => pair.Item1 != pair.Item2);
        detail = $"sequential {expected.Length} lines, cluster {actual.Length}; first difference: '{left}' vs '{right}'";
        return false;
    }

    private static string Target(string what, bool met) => $"{what}: {(met ? "met" : "MISSED")}";
    private static TimeSpan Median(List<TimeSpan> times) => MedianBy(times, t => t);
    /// <summary>The item of median time (the upper one of an even count).</summary>
    private static T MedianBy<T>(IReadOnlyList<T> items, Func<T, TimeSpan> time) => items.OrderBy(time).ElementAt(items.Count / 2);
    private static string RunsOf(List<TimeSpan> times) =>
        times.Count == 1 ? "1 run" : $"median of {times.Count} runs: {string.Join(", ", times.Select(Seconds))}";
    private static string WarmupsOf(IEnumerable<TimeSpan> warmups) =>
        warmups.Any() ? $"; warm-up {string.Join(", ", warmups.Select(Seconds))}, not counted" : "";
    private static string Mb(long bytes, int decimals = 1) => (bytes / 1_000_000.0).ToString("F" + decimals) + " MB";
    internal static string Seconds(TimeSpan t) => $"{t.TotalSeconds:0.00} s";
    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:0} ms";
    private static string Rate(long bytes, TimeSpan t) => $"{bytes / 1_000_000.0 / t.TotalSeconds:0.0} MB/s";
}

/// <summary>A job of the benchmark failed.</summary>
public sealed class BenchException(string message) : Exception(message);

/// <summary>The benchmark cannot make its input (no sample folder, no .txt in it).</summary>
public sealed class BenchInputException(string message) : Exception(message);
