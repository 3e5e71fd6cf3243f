using System.Diagnostics;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.UserCode;
using MapReduce.Node;
using MapReduce.Storage.Chunking;
using MapReduce.Submit.Client;

namespace MapReduce.Submit.Bench;

public sealed record IncrementalBenchOptions(long Bytes, int Files, int Workers, int TasksPerWorker, string CodeFolder, string SamplesFolder, string BenchFolder,
    string? ConfigFile, int Runs);

/// <summary>
/// `bench incremental`: the job over <c>files</c> generated files with <c>--incremental</c> (all of it
/// runs), then again after one file changed (only that file's map task and the reduces run), then again
/// with nothing changed (the earlier result comes back); beside them the same job without
/// --incremental. Each round deletes what it stored, so the next round's first job runs in full.
/// Prints each time, the ratios to the full job, and checks the outputs.
/// </summary>
public static class IncrementalBenchCommand
{
    public static async Task<int> RunAsync(IncrementalBenchOptions o, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (o.Files < 2 || o.Runs < 1 || o.Workers < 1 || o.TasksPerWorker < 1 || o.Bytes / o.Files < 1000)
        {
            error.WriteLine("error: bench incremental needs --files of at least 2, --runs, --workers and --tasks-per-worker of at least 1, and at least 1 KB per file");
            return ExitCodes.UsageError;
        }
        var codeFile = Path.Combine(o.CodeFolder, ScriptCompiler.ScriptFileName);
        if (!File.Exists(codeFile))
        {
            error.WriteLine($"error: code folder '{o.CodeFolder}' has no {ScriptCompiler.ScriptFileName}");
            return ExitCodes.UsageError;
        }
        try
        {
            return await RunCheckedAsync(o, codeFile, output, ct);
        }
        catch (Exception e) when (e is BenchException or BenchInputException or LocalClusterException or TimeoutException or ApiException)
        {
            error.WriteLine($"error: {e.Message}");
            return e is BenchInputException ? ExitCodes.UsageError : ExitCodes.JobFailed;
        }
    }

    private static async Task<int> RunCheckedAsync(IncrementalBenchOptions o, string codeFile, TextWriter output, CancellationToken ct)
    {
        var settings = MapReduceSettings.From(MapReduceSettings.LoadConfig(o.ConfigFile));
        Directory.CreateDirectory(o.BenchFolder);
        output.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        var generated = BenchInput.Ensure(o.BenchFolder, o.SamplesFolder, o.Bytes, o.Files);
        // A copy of its own: one of its files is changed and put back each round.
        var input = Path.Combine(o.BenchFolder, "incremental-input");
        if (Directory.Exists(input)) Directory.Delete(input, recursive: true);
        Directory.CreateDirectory(input);
        foreach (var file in Directory.GetFiles(generated)) File.Copy(file, Path.Combine(input, Path.GetFileName(file)));
        var changed = Directory.GetFiles(input).Order(StringComparer.Ordinal).ElementAt(o.Files / 2);
        var original = await File.ReadAllBytesAsync(changed, ct);
        output.WriteLine($"input: {InputFolder.List(input).Sum(d => d.Length) / 1_000_000.0:0.0} MB in {o.Files} files; the file that changes: {Path.GetFileName(changed)}");

        var store = Path.Combine(o.BenchFolder, "store-incremental");
        BenchStore.Clear(store);
        await using var cluster = await LocalCluster.StartAsync(new LocalClusterOptions(store, o.Workers, o.TasksPerWorker, 0, o.ConfigFile, settings.LocalMasters), ct);
        var node = new BenchClient(new ClusterApi(cluster.ApiUrls, cluster.Token, new ServerCertificateCheck(settings.Tls.ForClient()), settings.Client), settings.KvStoreShortCircuit);
        output.WriteLine($"cluster: {o.Workers} workers x {o.TasksPerWorker} tasks");
        var warm = await BenchCommand.RunJobAsync(node, Job(input, codeFile, null, settings, incremental: false, "out-plain"), null, ct);
        var codeId = warm.CodeId!;
        await node.Api.DeleteDatasetAsync(warm.DataId!, ct);
        output.WriteLine("first job (code upload, compile on workers, warm-up): not counted");

        var plain = new List<TimeSpan>();
        var full = new List<TimeSpan>();
        var oneChanged = new List<TimeSpan>();
        var same = new List<TimeSpan>();
        var ok = true;
        for (var round = 1; round <= o.Runs; round++)
        {
            await File.WriteAllBytesAsync(changed, original, ct);
            var stored = new List<string>();
            var (plainTime, plainJob) = await TimeAsync(node, Job(input, null, codeId, settings, incremental: false, "out-plain"), ct);
            stored.AddRange([plainJob.DataId!, $"result-{plainJob.JobId}"]);
            var (fullTime, fullJob) = await TimeAsync(node, Job(input, null, codeId, settings, incremental: true, "out-full"), ct);
            stored.AddRange([fullJob.DataId!, $"result-{fullJob.JobId}"]);
            await File.AppendAllTextAsync(changed, $"incremental bench round {round} changed this file\n", ct);
            var (changedTime, changedJob) = await TimeAsync(node, Job(input, null, codeId, settings, incremental: true, "out-changed"), ct);
            stored.AddRange([changedJob.DataId!, $"result-{changedJob.JobId}"]);
            var (sameTime, sameJob) = await TimeAsync(node, Job(input, null, codeId, settings, incremental: true, "out-same"), ct);
            stored.Add(sameJob.DataId!);

            var detail = await node.Api.JobAsync(changedJob.JobId!, ct);
            var reused = detail.Counters.GetValueOrDefault(TaskCounterNames.MapReused);
            var ran = detail.Job.MapsTotal - reused;
            var sameResult = sameJob.JobId == changedJob.JobId && SameBytes(changedJob.OutputFiles, sameJob.OutputFiles);
            output.WriteLine($"round {round}: plain {BenchCommand.Seconds(plainTime)}, --incremental full {BenchCommand.Seconds(fullTime)}, " +
                $"1 file changed {BenchCommand.Seconds(changedTime)} ({ran} of {detail.Job.MapsTotal} map tasks ran), nothing changed {BenchCommand.Seconds(sameTime)} " +
                $"({(sameResult ? $"job {sameJob.JobId}'s result, identical bytes" : "NOT the earlier result")})");
            ok &= sameResult && ran >= 1 && reused >= 1;
            plain.Add(plainTime);
            full.Add(fullTime);
            oneChanged.Add(changedTime);
            same.Add(sameTime);
            // What the round stored goes, the kept map outputs with it, so the next round starts from nothing.
            foreach (var dataset in stored.Distinct()) await node.Api.DeleteDatasetAsync(dataset, ct);
        }
        await File.WriteAllBytesAsync(changed, original, ct);
        var fullMedian = Median(full);
        output.WriteLine($"plain (no --incremental): {Spread(plain)}");
        output.WriteLine($"--incremental, full run: {Spread(full)}");
        output.WriteLine($"--incremental, 1 of {o.Files} files changed: {Spread(oneChanged)}; ratio to the full run {Median(oneChanged) / fullMedian:0.00}");
        output.WriteLine($"--incremental, nothing changed: {Spread(same)}; ratio to the full run {Median(same) / fullMedian:0.00}");
        output.WriteLine(ok ? "outputs: the no-change re-run returned the earlier job's result, byte for byte" : "outputs: a re-run did NOT reuse as it should");
        return ok ? ExitCodes.Ok : ExitCodes.JobFailed;
    }

    private static BenchJob Job(string input, string? codeFile, string? codeId, MapReduceSettings settings, bool incremental, string output) =>
        new(new RunJob(InputFolder.List(input), Path.GetFullPath(input), null, codeFile, codeId, settings.Reducers, settings.BlockSize) { Incremental = incremental },
            Path.Combine(Path.GetDirectoryName(Path.GetFullPath(input))!, output));

    private static async Task<(TimeSpan, JobOutcome)> TimeAsync(BenchClient node, BenchJob job, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var outcome = await BenchCommand.RunJobAsync(node, job, null, ct);
        return (watch.Elapsed, outcome);
    }

    private static bool SameBytes(IReadOnlyList<string> left, IReadOnlyList<string> right) =>
        left.Count == right.Count && left.Zip(right).All(p => File.ReadAllBytes(p.Item1).AsSpan().SequenceEqual(File.ReadAllBytes(p.Item2)));

    private static TimeSpan Median(List<TimeSpan> times) => times.Order().ElementAt(times.Count / 2);

    private static string Spread(List<TimeSpan> times) =>
        $"median {BenchCommand.Seconds(Median(times))} (min {BenchCommand.Seconds(times.Min())}, max {BenchCommand.Seconds(times.Max())}, {times.Count} runs)";
}
