using System.Diagnostics;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.UserCode;
using MapReduce.Node;
using MapReduce.Storage.Chunking;
using MapReduce.Submit.Client;

namespace MapReduce.Submit.Bench;

/// <summary>Options of <c>bench sort</c>.</summary>
/// <param name="Reducers">Reduce partitions; 0: <see cref="SortBenchCommand.DefaultReducers"/>.</param>
/// <param name="CompareWithSort">Keep GNU sort's output and compare ours with it byte for byte (costs the space of one more copy).</param>
public sealed record SortBenchOptions(
    long Bytes,
    ulong Seed,
    int Reducers,
    int Workers,
    int TasksPerWorker,
    string CodeFolder,
    string BenchFolder,
    string? ConfigFile,
    bool CompareWithSort);

/// <summary>
/// The sort benchmark (TeraSort's shape): generates 100-byte records with 10-character keys
/// (<see cref="SortInput"/>), times <c>LC_ALL=C sort -S 25% --parallel=2</c> on the file, then
/// sorts it on a local cluster with samples/sort (upload, total-order job, download, timed
/// together) and validates the parts: concatenated in order they are globally sorted and hold the
/// same lines as the input (count and checksum). Prints both times and their ratio, each node's
/// peak memory, the most the store and scratch held during the job, and what is left once the
/// job's output and input are deleted.
/// </summary>
public static class SortBenchCommand
{
    public static async Task<int> RunAsync(SortBenchOptions o, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (o.Workers < 1 || o.TasksPerWorker < 1 || o.Reducers < 0 || o.Bytes < SortInput.RecordBytes)
        {
            error.WriteLine("error: --workers and --tasks-per-worker must be at least 1, --reducers at least 0 (0: by size), --size at least 100 B");
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

    /// <summary>
    /// One partition per 256 MB of input, rounded up to a whole number of waves of the cluster's task
    /// slots: 3 reduces on 2 slots ran as two waves with one slot idle in the second, 19-20 s for 1 GB
    /// against 14.5 s with 2 or 4 (docs/speed.md).
    /// </summary>
    public static int DefaultReducers(long inputBytes, int slots)
    {
        var byBytes = (int)Math.Max(1, (inputBytes + 255_999_999) / 256_000_000);
        var waves = (byBytes + slots - 1) / slots;
        return Math.Max(2, waves * slots);
    }

    private static async Task<int> RunCheckedAsync(SortBenchOptions o, string codeFile, TextWriter output, CancellationToken ct)
    {
        var settings = MapReduceSettings.From(MapReduceSettings.LoadConfig(o.ConfigFile));
        Directory.CreateDirectory(o.BenchFolder);
        output.WriteLine($"machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        var watch = Stopwatch.StartNew();
        var inputFolder = SortInput.Ensure(o.BenchFolder, o.Bytes, o.Seed);
        var inputFile = Path.Combine(inputFolder, "records.txt");
        var inputBytes = new FileInfo(inputFile).Length;
        var reducers = o.Reducers > 0 ? o.Reducers : DefaultReducers(inputBytes, o.Workers * o.TasksPerWorker);
        var expected = new LineChecksum();
        expected.AddFile(inputFile, checkOrder: false);
        output.WriteLine($"input: {Mb(inputBytes)}, {Count(expected.Lines)} records of {SortInput.RecordBytes} bytes (seed {o.Seed}) at {inputFile} (ready and checksummed in {Seconds(watch.Elapsed)})");

        // GNU sort first, on a cold start of its own: its output is deleted after, unless compared.
        var gnuOutput = Path.Combine(o.BenchFolder, "sort-gnu.txt");
        var gnuTime = await ShellBaseline.TimeAsync($"sort -S 25% --parallel=2 -o {ShellBaseline.Quote(gnuOutput)} {ShellBaseline.Quote(inputFile)}", ct);
        output.WriteLine($"GNU sort (LC_ALL=C sort -S 25% --parallel=2): {Seconds(gnuTime)}, {Rate(inputBytes, gnuTime)}");
        if (!o.CompareWithSort) File.Delete(gnuOutput);

        var store = Path.Combine(o.BenchFolder, "store-sort");
        BenchStore.Clear(store);
        watch.Restart();
        await using var cluster = await LocalCluster.StartAsync(new LocalClusterOptions(store, o.Workers, o.TasksPerWorker, 0, o.ConfigFile, settings.LocalMasters), ct);
        var node = new BenchClient(new ClusterApi(cluster.ApiUrls, cluster.Token, new ServerCertificateCheck(settings.Tls.ForClient()), settings.Client), settings.KvStoreShortCircuit);
        output.WriteLine($"cluster: 1 kvstore, {settings.LocalMasters} masters, {o.Workers} workers x {o.TasksPerWorker} tasks, up in {Seconds(watch.Elapsed)}");

        // A tiny sort first compiles the script on the workers (not counted), as a long-lived cluster would have.
        var tinyFolder = SortInput.Ensure(o.BenchFolder, 100_000, o.Seed + 1);
        var first = await BenchCommand.RunJobAsync(node, new BenchJob(new RunJob(InputFolder.List(tinyFolder), tinyFolder, null, codeFile, null, 2, settings.BlockSize), Path.Combine(o.BenchFolder, "out-sort-tiny")), null, ct);
        await DeleteAsync(node, first, ct);

        var outFolder = Path.Combine(o.BenchFolder, "out-sort");
        var phases = new PhaseClock();
        JobOutcome job;
        long peakSpace;
        await using (var usage = new DiskUsage(store, TimeSpan.FromMilliseconds(250)))
        {
            watch.Restart();
            job = await BenchCommand.RunJobAsync(node, new BenchJob(new RunJob(InputFolder.List(inputFolder), inputFolder, null, null, first.CodeId, reducers, settings.BlockSize), outFolder), phases, ct);
            var time = watch.Elapsed;
            await usage.DisposeAsync();
            peakSpace = usage.Peak;
            var ratio = time / gnuTime;
            output.WriteLine($"cluster sort: {Seconds(time)}, {Rate(inputBytes, time)}, {reducers} reducers; ratio cluster/GNU sort {ratio:0.00}");
            output.WriteLine($"  {phases.Describe()}");
            var actual = new LineChecksum();
            foreach (var part in job.OutputFiles.Order(StringComparer.Ordinal)) actual.AddFile(part, checkOrder: true);
            var valid = actual.Ordered && actual.Lines == expected.Lines && actual.Sum == expected.Sum;
            output.WriteLine(valid
                ? $"output: valid ({Count(actual.Lines)} records in {job.OutputFiles.Count} parts, globally ordered, checksum {actual.Sum:x16} as the input's)"
                : $"output: INVALID ({(actual.Ordered ? "ordered" : actual.FirstDisorder)}; {Count(actual.Lines)} records against {Count(expected.Lines)}; checksum {actual.Sum:x16} against {expected.Sum:x16})");
            var identical = !o.CompareWithSort || await SameBytesAsync(job.OutputFiles.Order(StringComparer.Ordinal).ToList(), gnuOutput, ct);
            if (o.CompareWithSort)
            {
                output.WriteLine(identical ? "output: byte-identical to GNU sort's" : "output: DIFFERS from GNU sort's");
                File.Delete(gnuOutput);
            }
            var peaks = cluster.Nodes.Select(n => (n.Name, Peak: PeakMemory.Of(n.Process))).ToList();
            output.WriteLine("peak memory: " + string.Join(", ", peaks.Select(p => $"{p.Name} {PeakMemory.Megabytes(p.Peak)}")));
            output.WriteLine($"store and scratch: at most {Mb(peakSpace)} during the job ({(double)peakSpace / inputBytes:0.00}x the input)");
            await DeleteAsync(node, job, ct);
            var left = await SettledBytesAsync(store, ct);
            output.WriteLine($"left in the store once the input and the result are deleted: {Mb(left)}");
            var goal = inputBytes >= 5_000_000_000 ? 1.5 : 1.2;
            output.WriteLine("targets: " + string.Join("; ",
                Target($"at most {goal}x GNU sort", ratio <= goal),
                Target("every node under 1 GB peak", peaks.All(p => p.Peak < 1_000_000_000)),
                Target("store and scratch at most 3x the input", peakSpace <= 3 * inputBytes),
                Target("space freed at the end", left < 10_000_000)));
            foreach (var part in job.OutputFiles) File.Delete(part);
            return valid && identical ? ExitCodes.Ok : ExitCodes.JobFailed;
        }
    }

    private static readonly TimeSpan ResultPoll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ResultPatience = TimeSpan.FromSeconds(10);

    /// <summary>Deletes a job's input and result from the store.</summary>
    private static async Task DeleteAsync(BenchClient node, JobOutcome job, CancellationToken ct)
    {
        try
        {
            await node.Api.DeleteDatasetAsync(job.DataId!, ct);
            // The master's catalog projection registers result-JOB after it announces the job's end, so it can lag a moment.
            for (var waited = TimeSpan.Zero; ; waited += ResultPoll)
            {
                try
                {
                    await node.Api.DeleteDatasetAsync($"result-{job.JobId}", ct);
                    break;
                }
                catch (ApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound && waited < ResultPatience)
                {
                    await Task.Delay(ResultPoll, ct);
                }
            }
        }
        catch (ApiException e)
        {
            throw new BenchException($"deleting the job's input and result failed: {e.Message}");
        }
    }

    /// <summary>The store's bytes once the janitor has deleted the ended job's runs: sampled until it stops changing (or 30 s).</summary>
    private static async Task<long> SettledBytesAsync(string store, CancellationToken ct)
    {
        var blobs = Path.Combine(store, "kvstore", "blobs");
        var last = DiskUsage.BytesUnder(blobs);
        for (var i = 0; i < 60; i++)
        {
            await Task.Delay(500, ct);
            var now = DiskUsage.BytesUnder(blobs);
            if (now == last && now < 10_000_000) break;
            last = now;
        }
        return last;
    }

    private static async Task<bool> SameBytesAsync(IReadOnlyList<string> parts, string expectedFile, CancellationToken ct)
    {
        await using var expected = new FileStream(expectedFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var a = new byte[1 << 20];
        var b = new byte[1 << 20];
        foreach (var part in parts)
        {
            await using var actual = new FileStream(part, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            int n;
            while ((n = await actual.ReadAsync(a, ct)) > 0)
            {
                if (await expected.ReadAtLeastAsync(b.AsMemory(0, n), n, throwOnEndOfStream: false, ct) != n || !a.AsSpan(0, n).SequenceEqual(b.AsSpan(0, n))) return false;
            }
        }
        return await expected.ReadAsync(b, ct) == 0;
    }

    private static string Count(long n) => n.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
    private static string Target(string what, bool met) => $"{what}: {(met ? "met" : "MISSED")}";
    private static string Mb(long bytes) => $"{bytes / 1_000_000.0:0.0} MB";
    private static string Seconds(TimeSpan t) => $"{t.TotalSeconds:0.00} s";
    private static string Rate(long bytes, TimeSpan t) => $"{bytes / 1_000_000.0 / t.TotalSeconds:0.0} MB/s";
}
