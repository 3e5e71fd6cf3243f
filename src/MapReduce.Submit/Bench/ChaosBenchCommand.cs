using System.Diagnostics;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Node;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Catalog;
using MapReduce.Storage.Chunking;
using MapReduce.Submit.Client;

namespace MapReduce.Submit.Bench;

/// <summary>Options of <c>bench chaos</c>.</summary>
/// <param name="FaultEvery">The mean time between two faults.</param>
/// <param name="BusyThreads">Threads that keep the CPU busy during the soak (a saturated machine).</param>
public sealed record ChaosBenchOptions(
    TimeSpan Duration,
    int Clients,
    int Workers,
    TimeSpan FaultEvery,
    int Seed,
    int BusyThreads,
    string CodeFolder,
    string SamplesFolder,
    string BenchFolder,
    string? ConfigFile);

/// <summary>
/// A nemesis soak (after Jepsen): for a set time, several clients run word-count jobs (on stored
/// datasets and on fresh uploads, 1 to 3 reducers) on a local cluster while <see cref="Nemesis"/>
/// SIGKILLs and pauses random nodes of every role. Then a checker: every job a client saw end
/// succeeded with exactly the output of the same job on the undisturbed cluster, or failed with a
/// reason; the catalog says the same of each; every job in the catalog ended; no task has two
/// successful attempts; once the soak's results and uploads are deleted, the kvstore's folder
/// holds exactly what it held before the soak (no run, part or partial upload leaked) and the
/// catalog lists exactly the datasets it listed then. Prints jobs, faults and anomalies.
/// </summary>
public static class ChaosBenchCommand
{
    public static async Task<int> RunAsync(ChaosBenchOptions o, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (o.Duration <= TimeSpan.Zero || o.Clients < 1 || o.Workers < 1 || o.FaultEvery <= TimeSpan.Zero || o.BusyThreads < 0)
        {
            error.WriteLine("error: --minutes and --fault-every must be positive; --clients and --workers at least 1; --busy not negative");
            return ExitCodes.UsageError;
        }
        if (!OperatingSystem.IsLinux())
        {
            error.WriteLine("error: bench chaos pauses nodes with SIGSTOP and SIGCONT: it runs on Linux only");
            return ExitCodes.UsageError;
        }
        return await BenchErrors.ExitCodeOfAsync(() => RunCheckedAsync(o, output, ct), error);
    }

    /// <summary>One input the clients run on (the undisturbed job's parts stay in chaos-out/baseline-FOLDER): its folder, the dataset stored before the soak, and the undisturbed job's sorted output lines.</summary>
    private sealed record Input(string Folder, string DataId, List<string> Expected);

    /// <summary>What one client saw of one job.</summary>
    private sealed record Seen(string? JobId, string Outcome, string Detail);

    private static async Task<int> RunCheckedAsync(ChaosBenchOptions o, TextWriter output, CancellationToken ct)
    {
        var settings = MapReduceSettings.From(MapReduceSettings.LoadConfig(o.ConfigFile));
        var codeFile = Path.Combine(o.CodeFolder, Actors.UserCode.ScriptCompiler.ScriptFileName);
        if (!File.Exists(codeFile)) throw new BenchInputException($"code folder '{o.CodeFolder}' has no task.csx");
        Directory.CreateDirectory(o.BenchFolder);
        output.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        var folders = new[]
        {
            BenchInput.EnsureTiny(o.BenchFolder, o.SamplesFolder, 20_000),
            BenchInput.Ensure(o.BenchFolder, o.SamplesFolder, 400_000, 4),
            BenchInput.Ensure(o.BenchFolder, o.SamplesFolder, 2_000_000, 8),
        };
        var store = Path.Combine(o.BenchFolder, "chaos-store");
        BenchStore.Clear(store);
        var clock = Stopwatch.StartNew();
        await using var cluster = await LocalCluster.StartAsync(new LocalClusterOptions(store, o.Workers, 2, 0, o.ConfigFile, settings.LocalMasters), ct);
        var node = new BenchClient(new ClusterApi(cluster.ApiUrls, cluster.Token, new ServerCertificateCheck(settings.Tls.ForClient()), settings.Client), settings.KvStoreShortCircuit);
        output.WriteLine($"cluster: 1 kvstore, {settings.LocalMasters} masters, {o.Workers} workers x 2 tasks, up in {BenchCommand.Seconds(clock.Elapsed)}");

        // The undisturbed answers, and the datasets the soak's jobs read by id.
        var outFolder = Path.Combine(o.BenchFolder, "chaos-out");
        var inputs = new List<Input>();
        string? codeId = null;
        foreach (var folder in folders)
        {
            var first = await BenchCommand.RunJobAsync(node, new BenchJob(new RunJob(InputFolder.List(folder), folder, null, codeId is null ? codeFile : null, codeId, 2, settings.BlockSize),
                Path.Combine(outFolder, $"baseline-{Path.GetFileName(folder)}")), null, ct);
            codeId = first.CodeId;
            inputs.Add(new Input(folder, first.DataId!, JobsBenchCommand.Lines(first.OutputFiles)));
            await DeleteAsync(node, $"result-{first.JobId}", ct);
        }
        var catalog = new CatalogStore(SqlLocation.SqliteFile(Path.Combine(store, "catalog.db")));
        var kvstoreFolder = Path.Combine(store, "kvstore");
        var filesBefore = await SettledFilesAsync(kvstoreFolder, null, ct);
        var datasetsBefore = catalog.ListDatasets().Select(d => d.DirId).Order(StringComparer.Ordinal).ToList();

        // The soak: clients and the nemesis until the time is up, the CPU kept busy meanwhile.
        output.WriteLine($"soak: {o.Duration.TotalMinutes:0.#} min, {o.Clients} clients, a fault every ~{o.FaultEvery.TotalSeconds:0} s, {o.BusyThreads} busy threads, seed {o.Seed}");
        using var soak = CancellationTokenSource.CreateLinkedTokenSource(ct);
        soak.CancelAfter(o.Duration);
        using var busy = BusyThreads(o.BusyThreads);
        var nemesis = new Nemesis(cluster, new Random(o.Seed), o.FaultEvery, line => output.WriteLine($"  {BenchCommand.Seconds(clock.Elapsed)} {line}"));
        var soakClock = Stopwatch.StartNew();
        // Faults and exits are timed from the soak's start, the log lines from the cluster's: an exit is printed on the log's clock.
        var soakBegan = clock.Elapsed;
        var exits = new List<NodeExit>();
        cluster.NodeExited += (name, code) => { lock (exits) exits.Add(new NodeExit(soakClock.Elapsed, name, code)); };
        var faults = nemesis.RunAsync(soakClock, soak.Token);
        var clients = Enumerable.Range(0, o.Clients).Select(c => Task.Run(() => ClientAsync(c, node, inputs, codeId!, settings.BlockSize, outFolder, new Random(o.Seed * 31 + c), soak.Token), CancellationToken.None)).ToList();
        await faults;
        var seen = (await Task.WhenAll(clients)).SelectMany(s => s).ToList();
        busy.Dispose();
        output.WriteLine($"soak over after {BenchCommand.Seconds(soakClock.Elapsed)}; waiting for every job to end");

        // Jobs whose client gave up (a master down, say) still run to their end.
        // The catalog is a projection the active master writes every 100 ms: a job a client just saw end
        // may still be in its buffer (or the master paused by the last fault), so wait for those rows too.
        var settled = await EveryJobEndedAsync(catalog, seen.Where(s => s.JobId is not null).Select(s => s.JobId!).ToHashSet(), TimeSpan.FromMinutes(3), ct);
        var anomalies = new List<string>();
        if (!settled) anomalies.AddRange(catalog.ListJobs().Where(j => !Ended(j.Status)).Select(j => $"job {j.ExecId} still {j.Status} 3 minutes after the soak"));
        var jobs = catalog.ListJobs().ToDictionary(j => j.ExecId);
        foreach (var s in seen)
        {
            if (s.Outcome == "wrong") anomalies.Add($"job {s.JobId}: wrong output ({s.Detail})");
            if (s.JobId is null) continue;
            if (!jobs.TryGetValue(s.JobId, out var row)) anomalies.Add($"job {s.JobId}: not in the catalog");
            else if (s.Outcome is "exact" or "wrong" && row.Status != ExecutionStatus.Success) anomalies.Add($"job {s.JobId}: the client saw it succeed, the catalog says {row.Status}");
            else if (s.Outcome == "failed" && row.Status == ExecutionStatus.Success) anomalies.Add($"job {s.JobId}: the client saw it fail ({s.Detail}), the catalog says it succeeded");
        }
        anomalies.AddRange(jobs.Values.Where(j => j.Status == ExecutionStatus.Failure && string.IsNullOrWhiteSpace(j.Error)).Select(j => $"job {j.ExecId}: failed without a reason"));
        var twice = jobs.Keys.SelectMany(job => catalog.GetExecutions(job).Where(e => e.Status == ExecutionStatus.Success).GroupBy(e => e.TaskId).Where(g => g.Count() > 1).Select(g => $"{job} {g.Key}")).ToList();
        anomalies.AddRange(twice.Select(t => $"task {t}: more than one successful attempt"));

        // Leaks: delete what the soak made (results, fresh uploads), then the store must be as before it.
        foreach (var dataset in catalog.ListDatasets().Select(d => d.DirId).Except(datasetsBefore))
            await DeleteAsync(node, dataset, ct);
        var datasetsAfter = catalog.ListDatasets().Select(d => d.DirId).Order(StringComparer.Ordinal).ToList();
        if (!datasetsAfter.SequenceEqual(datasetsBefore)) anomalies.Add($"catalog datasets: {string.Join(", ", datasetsAfter.Except(datasetsBefore))} left, {string.Join(", ", datasetsBefore.Except(datasetsAfter))} lost");
        var filesAfter = await SettledFilesAsync(kvstoreFolder, filesBefore, ct);
        var leaked = filesAfter.Except(filesBefore).ToList();
        var lost = filesBefore.Except(filesAfter).ToList();
        if (leaked.Count > 0) anomalies.Add($"kvstore folder: {leaked.Count} files left by the soak, e.g. {string.Join(", ", leaked.Take(5))}");
        if (lost.Count > 0) anomalies.Add($"kvstore folder: {lost.Count} files of the stored datasets lost, e.g. {string.Join(", ", lost.Take(5))}");

        var byOutcome = seen.GroupBy(s => s.Outcome).ToDictionary(g => g.Key, g => g.Count());
        var injected = nemesis.Faults;
        List<NodeExit> exited;
        lock (exits) exited = [.. exits];
        var spurious = Nemesis.Unexplained(injected, exited, settings.LocalRestart.Delays.Max);
        anomalies.AddRange(spurious.Select(e => $"node {e.Node} exited (code {e.ExitCode?.ToString() ?? "unknown"}) at {BenchCommand.Seconds(soakBegan + e.At)} with no fault injected into it in the {Nemesis.ExitWindow.TotalSeconds:0} s before: a spurious down or a crash"));
        output.WriteLine($"jobs: {seen.Count} ({byOutcome.GetValueOrDefault("exact")} exact, {byOutcome.GetValueOrDefault("failed")} failed with a reason, " +
            $"{byOutcome.GetValueOrDefault("client-error")} given up by their client, {byOutcome.GetValueOrDefault("wrong")} wrong); {jobs.Count - inputs.Count} of the soak in the catalog");
        foreach (var reason in seen.Where(s => s.Outcome is "failed" or "client-error").GroupBy(s => s.Detail).OrderByDescending(g => g.Count()).Take(8))
            output.WriteLine($"  {reason.Count()}x {reason.Key}");
        output.WriteLine($"faults: {injected.Count} ({string.Join(", ", injected.GroupBy(f => $"{f.Kind} {f.Role}").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}"))})");
        output.WriteLine($"node exits: {exited.Count}, {spurious.Count} that no fault explains (spurious downs or crashes)");
        output.WriteLine($"anomalies: {anomalies.Count}");
        foreach (var anomaly in anomalies.Take(50)) output.WriteLine($"  {anomaly}");
        return anomalies.Count == 0 && byOutcome.GetValueOrDefault("exact") > 0 ? ExitCodes.Ok : ExitCodes.JobFailed;
    }

    /// <summary>One client: jobs one after another until the soak ends, each checked against its input's undisturbed answer.</summary>
    private static async Task<List<Seen>> ClientAsync(int client, BenchClient node, List<Input> inputs, string codeId, int blockSize, string outFolder, Random random, CancellationToken soak)
    {
        var seen = new List<Seen>();
        for (var n = 0; !soak.IsCancellationRequested; n++)
        {
            var input = inputs[random.Next(inputs.Count)];
            var upload = random.Next(3) == 0;
            var job = new RunJob(upload ? InputFolder.List(input.Folder) : null, upload ? input.Folder : null, upload ? null : input.DataId, null, codeId, 1 + random.Next(3), blockSize);
            var folder = Path.Combine(outFolder, $"client-{client}", $"job-{n:D4}");
            // A job is never cancelled by the soak's end: it runs out, so every job the cluster accepted ends on its own.
            using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            try
            {
                var outcome = await node.RunAsync(new BenchJob(job, folder), _ => { }, patience.Token);
                if (!outcome.Succeeded) seen.Add(new Seen(outcome.JobId, outcome.JobId is null ? "client-error" : "failed", Reason(outcome.Message)));
                else
                {
                    var lines = JobsBenchCommand.Lines(outcome.OutputFiles);
                    seen.Add(lines.SequenceEqual(input.Expected)
                        ? new Seen(outcome.JobId, "exact", "")
                        : new Seen(outcome.JobId, "wrong", $"{lines.Count} lines against {input.Expected.Count}"));
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                seen.Add(new Seen(null, "client-error", Reason(e.Message)));
                await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
            }
            finally
            {
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            }
        }
        return seen;
    }

    /// <summary>A failure's reason without its job id, so that equal reasons group.</summary>
    private static string Reason(string message)
    {
        var firstLine = message.Split('\n')[0];
        return System.Text.RegularExpressions.Regex.Replace(firstLine, @"job-[0-9a-z-]+|attempt \S+|data-[0-9a-f]+|\d+(\.\d+)? s\b", "…");
    }

    private static bool Ended(string status) => status is ExecutionStatus.Success or ExecutionStatus.Failure or ExecutionStatus.Cancelled;

    /// <summary>Waits until every job in the catalog has ended and every job a client learnt of is there.</summary>
    private static async Task<bool> EveryJobEndedAsync(CatalogStore catalog, IReadOnlySet<string> seen, TimeSpan patience, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < patience)
        {
            var jobs = catalog.ListJobs();
            if (jobs.All(j => Ended(j.Status)) && seen.IsSubsetOf(jobs.Select(j => j.ExecId))) return true;
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
        return false;
    }

    /// <summary>Deletes a dataset through the control API, trying again while the cluster recovers; a dataset already gone is fine.</summary>
    private static async Task DeleteAsync(BenchClient node, string id, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await node.Api.DeleteDatasetAsync(id, ct);
                return;
            }
            catch (ApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound)
            {
                return;
            }
            catch (Exception e) when (e is ApiException or HttpRequestException && attempt < 30)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    /// <summary>
    /// The files under the kvstore's folder (relative paths), read until they stop changing for
    /// 3 s (the janitor deletes an ended job's runs a moment later) or equal <paramref name="expected"/>, at most two minutes.
    /// </summary>
    private static async Task<HashSet<string>> SettledFilesAsync(string folder, HashSet<string>? expected, CancellationToken ct)
    {
        HashSet<string> Files() => StoreFiles(folder);
        var last = Files();
        var stable = Stopwatch.StartNew();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromMinutes(2))
        {
            if (expected is not null && last.SetEquals(expected)) return last;
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
            var now = Files();
            if (!now.SetEquals(last))
            {
                last = now;
                stable.Restart();
            }
            else if (stable.Elapsed >= TimeSpan.FromSeconds(3) && expected is null) return last;
        }
        return last;
    }

    /// <summary>
    /// The files under a kvstore folder (paths relative to it) that a soak must leave as it found
    /// them: all but the end markers of jobs (a blob under <c>ended/</c>, and its checksum), one of
    /// which every ended job leaves for good (Storage.Blobs.JobFence). Anything else a job leaves,
    /// in <c>jobs/</c> or beside it, is listed.
    /// </summary>
    public static HashSet<string> StoreFiles(string folder)
    {
        if (!Directory.Exists(folder)) return [];
        return Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f))
            .Where(f => !IsEndMarker(f))
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>blobs/ended/JOB or checksums/ended/JOB: a job's end marker or its checksum, nothing deeper.</summary>
    private static bool IsEndMarker(string relative) =>
        relative.Split(Path.DirectorySeparatorChar) is [LocalBlobStore.BlobsFolder or LocalBlobStore.ChecksumsFolder, JobFence.EndedFolder, _];

    /// <summary>Threads that spin at the lowest priority until disposed: the machine saturated, as under a neighbour's load.</summary>
    private static IDisposable BusyThreads(int count)
    {
        var stop = new CancellationTokenSource();
        for (var i = 0; i < count; i++)
            new Thread(() => { while (!stop.IsCancellationRequested) Thread.SpinWait(10_000); }) { IsBackground = true, Priority = ThreadPriority.Lowest }.Start();
        return stop;
    }
}
