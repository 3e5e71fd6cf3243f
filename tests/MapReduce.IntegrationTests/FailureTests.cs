using System.Diagnostics;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// Nodes killed by PID in the middle of a job: the job still finishes, with exactly the output of
/// an undisturbed run, and the CLI exits 0. Each test has a cluster of its own, and runs beside
/// other classes: what it checks does not depend on how fast the machine is (the take-over times
/// are <see cref="TakeOverSpeedTests"/>).
/// </summary>
[RunsAbout(100)]
public sealed class FailureTests(ITestOutputHelper log)
{
    [Fact]
    public async Task A_worker_killed_mid_map()
    {
        await using var cluster = await FailureCluster.StartAsync(workers: 2);
        var output = Path.Combine(cluster.Work, "out");
        var submit = cluster.SubmitGatedAsync(output);
        await cluster.WaitRunningAsync("map", 4, TimeSpan.FromSeconds(90));
        cluster.Kill("worker-1");
        cluster.Open("map");
        cluster.Open("reduce");
        await FailureCluster.AssertExactOutputAsync(submit, output, log);

        // Counted once per task: the two attempts lost with the worker add nothing but themselves.
        var jobId = (await submit).SucceededJob;
        var job = cluster.Catalog.GetJob(jobId)!;
        await Cli.EventuallyAsync(() => cluster.Catalog.GetJob(jobId)!.Status == "success" && cluster.Catalog.GetCounters(jobId).Totals.ContainsKey("reduce.output.pairs"),
            TimeSpan.FromSeconds(10), "the job's counters did not reach the catalog");
        var totals = cluster.Catalog.GetCounters(jobId).Totals;
        Assert.Equal(Directory.GetFiles(Cli.Samples("data")).Sum(f => new FileInfo(f).Length), totals["map.input.bytes"]);
        Assert.Equal(FailureCluster.SampleWordCount.Count, totals["reduce.output.pairs"]);
        Assert.Equal(FailureCluster.SampleWordCount.Count, totals["reduce.groups"]);
        Assert.Equal(Directory.GetFiles(output, "part-*").Sum(f => new FileInfo(f).Length), totals["reduce.output.bytes"]);
        Assert.Equal(2, totals["attempts.lost"]);
        Assert.Equal(0, totals["attempts.failed"]);
        Assert.Equal(job.MapTasks + job.Reducers + 2 + totals.GetValueOrDefault(AttemptCounters.BackupsLaunched), totals["attempts"]);
    }

    [Fact]
    public async Task A_worker_killed_mid_reduce()
    {
        await using var cluster = await FailureCluster.StartAsync(workers: 2);
        var output = Path.Combine(cluster.Work, "out");
        var submit = cluster.SubmitGatedAsync(output);
        cluster.Open("map");
        await cluster.WaitRunningAsync("reduce", 4, TimeSpan.FromSeconds(90));
        cluster.Kill("worker-2");
        cluster.Open("reduce");
        await FailureCluster.AssertExactOutputAsync(submit, output, log);
    }

    [Fact]
    public async Task The_master_killed_mid_reduce()
    {
        await using var cluster = await FailureCluster.StartAsync(workers: 2);
        var output = Path.Combine(cluster.Work, "out");
        var submit = cluster.SubmitGatedAsync(output);
        cluster.Open("map");
        await cluster.WaitRunningAsync("reduce", 4, TimeSpan.FromSeconds(90));
        cluster.Kill("master-1");
        // Results of the reduces finishing during the failover wait in the proxies for the new master.
        cluster.Open("reduce");
        await cluster.WaitMasterRecoveredAsync("master-2", TimeSpan.FromSeconds(60));
        await FailureCluster.AssertExactOutputAsync(submit, output, log);
    }

    [Fact]
    public async Task A_worker_and_the_master_killed_together_mid_map()
    {
        await using var cluster = await FailureCluster.StartAsync(workers: 2);
        var output = Path.Combine(cluster.Work, "out");
        var submit = cluster.SubmitGatedAsync(output);
        await cluster.WaitRunningAsync("map", 4, TimeSpan.FromSeconds(90));
        cluster.Kill("master-1");
        cluster.Kill("worker-1");
        await cluster.WaitMasterRecoveredAsync("master-2", TimeSpan.FromSeconds(60));
        cluster.Open("map");
        cluster.Open("reduce");
        await FailureCluster.AssertExactOutputAsync(submit, output, log);
    }

    [Fact]
    public async Task Crash_soak_workers_that_kill_themselves_are_restarted_and_the_output_is_exact()
    {
        await using var cluster = await FailureCluster.StartAsync(workers: 2);
        var markers = Directory.CreateDirectory(Path.Combine(cluster.Work, "markers")).FullName;
        var code = Directory.CreateDirectory(Path.Combine(cluster.Work, "soak")).FullName;
        // A third of map tasks (by a stable hash of the chunk) kill their process the first time they
        // run and another third sleep up to 2 s; Reduce kills its process on the first key of up to
        // four hash buckets and sleeps on a few keys. A marker file makes each death happen once.
        await File.WriteAllTextAsync(Path.Combine(code, "task.csx"), $$"""
            using System.Threading;
            static readonly string Markers = @"{{markers}}";
            static int Stable(string s) { var h = 17; foreach (var c in s) h = unchecked(h * 31 + c); return h & 0x7fffffff; }
            static bool Once(string name)
            {
                try { using var f = new FileStream(Path.Combine(Markers, name), FileMode.CreateNew); return true; }
                catch (IOException) { return false; }
            }

            IEnumerable<(string, int)> Map(string docId, string chunk)
            {
                var h = Stable(docId + ":" + chunk.Length + ":" + chunk.Substring(0, Math.Min(64, chunk.Length)));
                if (h % 3 == 0 && Once("map-" + h)) Environment.Exit(1);
                if (h % 3 == 1) Thread.Sleep(h % 2000);
                foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(chunk, @"\p{L}+"))
                    yield return (m.Value, 1);
            }

            int Reduce(string word, IEnumerable<int> counts)
            {
                var h = Stable(word);
                if (h % 3 == 0 && Once("reduce-" + (h % 4))) Environment.Exit(1);
                if (h % 2000 == 1) Thread.Sleep(200);
                return counts.Sum();
            }
            """);

        // The supervisor: a worker that died is started again under the same name.
        using var stop = new CancellationTokenSource();
        var restarts = 0;
        var supervisor = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var name in new[] { "worker-1", "worker-2" })
                {
                    if (!cluster.Node(name).Process.HasExited) continue;
                    Interlocked.Increment(ref restarts);
                    cluster.Relaunch(name, MapReduce.Actors.Hosting.NodeRoles.Worker);
                }
                await Task.Delay(300);
            }
        });

        var output = Path.Combine(cluster.Work, "out");
        var submit = Cli.RunAsync("MapReduce.Submit", ["-d", Cli.Samples("data"), "-c", code, "-o", output, "--cluster", cluster.Api,
            "--block-size", "262144", "--reducers", "4"], TimeSpan.FromMinutes(6));
        try
        {
            if (await Task.WhenAny(submit, supervisor) == supervisor) await supervisor; // a supervisor that failed fails the test now
            await FailureCluster.AssertExactOutputAsync(submit, output, log);
        }
        finally
        {
            stop.Cancel();
            await supervisor;
        }
        var deaths = Directory.EnumerateFiles(markers).Count();
        log.WriteLine($"{deaths} deaths, {restarts} worker restarts");
        Assert.True(deaths >= 3, $"the soak should have killed workers; it killed {deaths}");

        // Only the attempt whose code exited is blamed: the others its worker held are lost, not
        // failed. Each death blames at most one attempt (two attempts exiting together blame one),
        // and no map task is blamed twice, as each chunk kills its process once. (A reduce task may
        // be: its next attempt passes the keys whose bucket has killed already and can meet the first
        // key of a bucket no other reduce has reached yet.)
        var jobId = (await submit).SucceededJob;
        await Cli.EventuallyAsync(() => cluster.Catalog.GetJob(jobId)!.Status == "success", TimeSpan.FromSeconds(10), "the job's success did not reach the catalog");
        var attempts = cluster.Catalog.GetExecutions(jobId);
        var failed = attempts.Where(a => a.Outcome == MapReduce.Storage.Catalog.ExecutionOutcome.Failed).ToList();
        log.WriteLine($"{failed.Count} attempts failed, {attempts.Count(a => a.Outcome == MapReduce.Storage.Catalog.ExecutionOutcome.Lost)} lost");
        var blamed = string.Join('\n', failed.Select(a => $"{a.AttemptId}: {a.Error}"));
        Assert.True(failed.Count <= deaths, $"{failed.Count} attempts failed for {deaths} deaths:\n{blamed}");
        Assert.All(failed, a => Assert.Matches(@"^worker process exited with code 1 while running (map|reduce) " + a.TaskId + "( |$)", a.Error));
        var maps = failed.Where(a => a.TaskId.StartsWith('m')).ToList();
        Assert.True(maps.Count == maps.Select(a => a.TaskId).Distinct().Count(), $"a map task blamed twice:\n{blamed}");
    }
}
