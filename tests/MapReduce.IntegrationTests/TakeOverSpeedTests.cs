using System.Diagnostics;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// How fast a master or worker that stops hands its work over: bounds on seconds, so these run
/// alone (<see cref="AloneCollection"/>), with no other cluster competing for the CPU.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class TakeOverSpeedTests(ITestOutputHelper log)
{
    [Fact]
    public async Task The_master_killed_mid_map_fails_over_in_seconds()
    {
        await using var cluster = await FailureCluster.StartAsync(workers: 2);
        var output = Path.Combine(cluster.Work, "out");
        var submit = cluster.SubmitGatedAsync(output);
        await cluster.WaitRunningAsync("map", 4, TimeSpan.FromSeconds(90));
        var killed = Stopwatch.StartNew();
        cluster.Kill("master-1");
        await cluster.WaitMasterRecoveredAsync("master-2", TimeSpan.FromSeconds(60));
        var failover = killed.Elapsed;
        log.WriteLine($"failover: singleton running again on master-2 {failover.TotalSeconds:0.0} s after SIGKILL");
        foreach (var line in File.ReadLines(cluster.Node("master-2").LogFile).Where(l => l.Contains("UNREACHABLE") || l.Contains("SBR") || l.Contains("Singleton") || l.Contains("recovered") || l.Contains("Leader is removing") || l.Contains("Marking")))
            log.WriteLine(line.Length > 200 ? line[..200] : line);
        // The standby did not wait for the failure detector: the killed process's port refused its probe.
        Assert.Contains("is gone (its host refuses connections to its port): downing it at once", File.ReadAllText(cluster.Node("master-2").LogFile));
        cluster.Open("map");
        cluster.Open("reduce");
        await FailureCluster.AssertExactOutputAsync(submit, output, log);
        // Measured 7.5-8.2 s on the 2-core dev machine before members were downed on a refused probe; the bound leaves room for a loaded CI
        // machine while still failing on Akka's defaults (about 46 s).
        Assert.True(failover < TimeSpan.FromSeconds(12), $"failover took {failover.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Sigterm_on_the_master_hands_the_singleton_over_in_a_few_seconds()
    {
        await using var cluster = await FailureCluster.StartAsync(workers: 1);
        var stopped = Stopwatch.StartNew();
        MapReduce.Node.ProcessSignals.Terminate(cluster.Node("master-1").Process);
        await cluster.WaitMasterRecoveredAsync("master-2", TimeSpan.FromSeconds(30));
        var handover = stopped.Elapsed;
        log.WriteLine($"graceful hand-over: {handover.TotalSeconds:0.0} s");
        Assert.True(handover < TimeSpan.FromSeconds(5), $"hand-over took {handover.TotalSeconds:0.0} s");

        // The cluster still runs jobs afterwards.
        var output = Path.Combine(cluster.Work, "out");
        var result = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--cluster", cluster.Api);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(FailureCluster.SampleWordCount, Oracle.ReadParts(output, 4));
    }

    [Fact]
    public async Task Sigterm_on_a_worker_requeues_its_tasks_at_once()
    {
        await using var cluster = await FailureCluster.StartAsync(workers: 3);
        var output = Path.Combine(cluster.Work, "out");
        var submit = cluster.SubmitGatedAsync(output);
        await cluster.WaitRunningAsync("map", 6, TimeSpan.FromSeconds(90));
        var stopped = Stopwatch.StartNew();
        MapReduce.Node.ProcessSignals.Terminate(cluster.Node("worker-1").Process);

        // Well before the failure detector would notice (it needs the process gone, then 2 s of
        // silence and 2 s of stable-after), its attempts are failed as "shutting down" and re-queued.
        var deadline = DateTime.UtcNow.AddSeconds(3);
        var released = 0;
        while (DateTime.UtcNow < deadline && released < 2)
        {
            var execId = cluster.Catalog.ListJobs()[^1].ExecId;
            released = cluster.Catalog.GetExecutions(execId).Count(e => e.Error?.EndsWith("is shutting down", StringComparison.Ordinal) == true);
            await Task.Delay(100);
        }
        log.WriteLine($"{released} attempts re-queued {stopped.Elapsed.TotalSeconds:0.0} s after SIGTERM");
        Assert.Equal(2, released);

        cluster.Open("map");
        cluster.Open("reduce");
        await FailureCluster.AssertExactOutputAsync(submit, output, log);
    }
}
