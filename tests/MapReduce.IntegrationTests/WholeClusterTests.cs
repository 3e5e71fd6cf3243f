using System.Diagnostics;
using System.Text;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// Every process of the cluster (kvstore, both masters, both workers) and the submitter killed at
/// once mid-job, then the cluster started again on the same store: the recovered master finishes
/// the job with exactly the output of an undisturbed run, and map outputs stored before the kill
/// are used as they are, not computed again.
/// </summary>
[RunsAbout(41)]
public sealed class WholeClusterTests(ITestOutputHelper log)
{
    private static readonly SortedSet<string> Expected = Oracle.WordCount(Cli.Samples("data"));

    [Fact]
    public async Task Every_node_killed_mid_map_then_started_again_finishes_the_job_exactly_without_redoing_stored_maps()
    {
        var took = Stopwatch.StartNew();
        await using var cluster = await FailureCluster.StartAsync(workers: 2);
        try
        {
            // Maps of documents up to pg-grimm run at once; those after "pg-h" wait for the gate.
            using var submitter = StartSubmitter(cluster, cluster.PartlyGatedWordCount("pg-h"));
            var jobId = await WaitJobAsync(cluster);
            // Some maps stored, and every slot (2 workers x 2) held by a gated map.
            await WaitExecutionsAsync(cluster, jobId, e =>
                e.Count(x => x.ExecType == ExecutionType.Map && x.Status == ExecutionStatus.Success) >= 3
                && e.Count(x => x.ExecType == ExecutionType.Map && x.Status == ExecutionStatus.Running) >= 4);

            await KillEverythingAsync(cluster, submitter);
            log.WriteLine($"{took.Elapsed.TotalSeconds:0.0} s: killed");
            // Read once nothing runs: the catalog follows the journal, so every success it shows was journalled before the kill.
            var before = cluster.Catalog.GetExecutions(jobId);
            var stored = Succeeded(before, ExecutionType.Map);
            log.WriteLine($"job {jobId}: {stored.Count} of {cluster.Catalog.GetJob(jobId)!.MapTasks} map tasks stored before the kill: {string.Join(", ", stored.Select(s => s.Attempt))}");
            Assert.True(stored.Count >= 3);
            await cluster.RestartAllAsync();
            log.WriteLine($"{took.Elapsed.TotalSeconds:0.0} s: restarted");
            cluster.Open("map");
            cluster.Open("reduce");

            await AssertJobSucceededExactlyAsync(cluster, jobId);
            log.WriteLine($"{took.Elapsed.TotalSeconds:0.0} s: job succeeded");
            var after = cluster.Catalog.GetExecutions(jobId);
            foreach (var (task, attempt) in stored)
            {
                var attempts = after.Where(e => e.TaskId == task).Select(e => e.AttemptId).ToList();
                Assert.True(attempts.SequenceEqual(before.Where(e => e.TaskId == task).Select(e => e.AttemptId)),
                    $"map task {task} was stored by {attempt} before the kill, yet has attempts {string.Join(", ", attempts)} afterwards");
            }
            // The gated maps that were running when everything died did run again.
            Assert.True(after.Count(e => e.ExecType == ExecutionType.Map) > before.Count(e => e.ExecType == ExecutionType.Map));
        }
        catch
        {
            DumpLogs(cluster);
            throw;
        }
        log.WriteLine($"took {took.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Every_node_killed_mid_reduce_then_started_again_finishes_the_job_exactly_without_redoing_maps()
    {
        var took = Stopwatch.StartNew();
        await using var cluster = await FailureCluster.StartAsync(workers: 2);
        try
        {
            using var submitter = StartSubmitter(cluster, cluster.GatedWordCount());
            var jobId = await WaitJobAsync(cluster);
            cluster.Open("map");
            var mapTasks = cluster.Catalog.GetJob(jobId)!.MapTasks;
            await WaitExecutionsAsync(cluster, jobId, e =>
                e.Count(x => x.ExecType == ExecutionType.Map && x.Status == ExecutionStatus.Success) == mapTasks
                && e.Count(x => x.ExecType == ExecutionType.Reduce && x.Status == ExecutionStatus.Running) >= 4);

            await KillEverythingAsync(cluster, submitter);
            log.WriteLine($"{took.Elapsed.TotalSeconds:0.0} s: killed");
            var before = cluster.Catalog.GetExecutions(jobId);
            log.WriteLine($"job {jobId}: all {mapTasks} map tasks stored, {before.Count(e => e.ExecType == ExecutionType.Reduce)} reduce attempts before the kill");
            await cluster.RestartAllAsync();
            log.WriteLine($"{took.Elapsed.TotalSeconds:0.0} s: restarted");
            cluster.Open("reduce");

            await AssertJobSucceededExactlyAsync(cluster, jobId);
            log.WriteLine($"{took.Elapsed.TotalSeconds:0.0} s: job succeeded");
            var after = cluster.Catalog.GetExecutions(jobId);
            var mapsBefore = before.Where(e => e.ExecType == ExecutionType.Map).Select(e => e.AttemptId).ToList();
            var mapsAfter = after.Where(e => e.ExecType == ExecutionType.Map).Select(e => e.AttemptId).ToList();
            Assert.Equal(mapsBefore, mapsAfter); // no map attempt started after the kill
            Assert.Equal(mapTasks, after.Where(e => e.ExecType == ExecutionType.Map).Select(e => e.TaskId).Distinct().Count());
            Assert.All(after.Where(e => e.ExecType == ExecutionType.Map).GroupBy(e => e.TaskId),
                g => Assert.Equal(ExecutionStatus.Success, Assert.Single(g).Status));
        }
        catch
        {
            DumpLogs(cluster);
            throw;
        }
        log.WriteLine($"took {took.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>A submitter as its own process (so the test can kill it), its output collected for the log.</summary>
    private sealed class Submitter(Process process, StringBuilder output) : IDisposable
    {
        public Process Process { get; } = process;
        public string Output { get { lock (output) return output.ToString(); } }
        public void Dispose()
        {
            try { Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            Process.Dispose();
        }
    }

    private static Submitter StartSubmitter(FailureCluster cluster, string code)
    {
        var output = new StringBuilder();
        var process = new Process
        {
            StartInfo = Cli.StartInfo("MapReduce.Submit", ["-d", Cli.Samples("data"), "-c", code, "-o", Path.Combine(cluster.Work, "out"),
                "--cluster", cluster.Api, "--block-size", "131072", "--reducers", "4"]),
        };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new Submitter(process, output);
    }

    private static async Task<string> WaitJobAsync(FailureCluster cluster)
    {
        string? jobId = null;
        await Cli.EventuallyAsync(() => (jobId = cluster.Catalog.ListJobs().SingleOrDefault()?.ExecId) is not null,
            TimeSpan.FromSeconds(90), "the job was not accepted");
        return jobId!;
    }

    private static async Task<IReadOnlyList<ExecutionRow>> WaitExecutionsAsync(FailureCluster cluster, string jobId, Func<IReadOnlyList<ExecutionRow>, bool> condition)
    {
        IReadOnlyList<ExecutionRow> rows = [];
        await Cli.EventuallyAsync(() => condition(rows = cluster.Catalog.GetExecutions(jobId)), TimeSpan.FromSeconds(90),
            $"the job did not get to the state wanted before the kill; executions: {string.Join(", ", rows.Select(r => $"{r.AttemptId}={r.Status}"))}");
        return rows;
    }

    private static List<(string Task, string Attempt)> Succeeded(IReadOnlyList<ExecutionRow> rows, string execType) =>
        rows.Where(e => e.ExecType == execType && e.Status == ExecutionStatus.Success).Select(e => (e.TaskId, e.AttemptId)).ToList();

    private async Task KillEverythingAsync(FailureCluster cluster, Submitter submitter)
    {
        submitter.Process.Kill(entireProcessTree: true);
        await cluster.KillAllAsync(TimeSpan.FromSeconds(20));
        await submitter.Process.WaitForExitAsync();
        Assert.True(submitter.Process.HasExited);
        Assert.Empty(Cli.NodeProcessesUsing(cluster.Store));
        log.WriteLine("--- submitter before the kill");
        log.WriteLine(submitter.Output);
    }

    /// <summary>Waits for the job to succeed in the catalog, then reads its result dataset straight from the kvstore's blob files.</summary>
    private async Task AssertJobSucceededExactlyAsync(FailureCluster cluster, string jobId)
    {
        JobRow? job = null;
        await Cli.EventuallyAsync(() => (job = cluster.Catalog.GetJob(jobId))?.Status is ExecutionStatus.Success or ExecutionStatus.Failure,
            TimeSpan.FromMinutes(3), $"job {jobId} did not finish after the restart (status {job?.Status})");
        Assert.True(job!.Status == ExecutionStatus.Success, $"job {jobId}: {job.Status} {job.Error}");
        Assert.Equal($"result-{jobId}", job.ResultDirId);

        var parts = cluster.Catalog.GetChunks(job.ResultDirId!);
        var folder = Directory.CreateDirectory(Path.Combine(cluster.Work, "result")).FullName;
        foreach (var part in parts)
            File.Copy(Path.Combine(cluster.Store, "kvstore", "blobs", part.ChunkId), Path.Combine(folder, part.DocId));
        Assert.Equal(Expected, Oracle.ReadParts(folder, 4));
    }

    private void DumpLogs(FailureCluster cluster)
    {
        var folder = Path.Combine(cluster.Store, "logs");
        if (!Directory.Exists(folder)) return;
        foreach (var file in Directory.EnumerateFiles(folder, "*.log").Order(StringComparer.Ordinal))
        {
            log.WriteLine($"--- {Path.GetFileName(file)}");
            using var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            var lines = reader.ReadToEnd().Split('\n')
                .Where(l => l.Contains("ERROR") || l.Contains("WARN") || l.Contains("recover", StringComparison.OrdinalIgnoreCase)
                    || l.Contains("job", StringComparison.OrdinalIgnoreCase) || l.Contains("Exception"))
                .TakeLast(80);
            foreach (var line in lines) log.WriteLine(line.Length > 300 ? line[..300] : line);
        }
    }
}
