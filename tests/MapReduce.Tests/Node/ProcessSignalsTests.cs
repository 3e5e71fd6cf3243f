using System.Diagnostics;
using MapReduce.Node;

namespace MapReduce.Tests.Node;

/// <summary>How a local cluster's node processes are stopped: the whole-cluster signal's grace (mapreduce.local.cluster-stop-grace) before SIGTERM.</summary>
public sealed class ProcessSignalsTests
{
    /// <summary>A shell that ignores the whole-cluster signal (SIGUSR1) and dies on SIGTERM; it says "ready" once the trap is set.</summary>
    private static async Task<Process> DeafToClusterStopAsync()
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("trap '' USR1; echo ready; while :; do sleep 0.05; done");
        var process = Process.Start(start)!;
        Assert.Equal("ready", await process.StandardOutput.ReadLineAsync());
        return process;
    }

    [Fact]
    public async Task A_node_that_ignores_the_whole_cluster_signal_gets_sigterm_after_the_cluster_stop_grace()
    {
        if (!OperatingSystem.IsLinux()) return; // the whole-cluster signal is Linux's SIGUSR1
        var grace = TimeSpan.FromMilliseconds(700);
        using var whole = await DeafToClusterStopAsync();
        var clock = Stopwatch.StartNew();
        await ProcessSignals.StopAsync(whole, TimeSpan.FromSeconds(10), wholeCluster: grace);
        Assert.True(whole.HasExited);
        Assert.InRange(clock.Elapsed, grace, TimeSpan.FromSeconds(5));

        // Without the whole-cluster signal SIGTERM goes at once.
        using var one = await DeafToClusterStopAsync();
        clock.Restart();
        await ProcessSignals.StopAsync(one, TimeSpan.FromSeconds(10));
        Assert.True(one.HasExited);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, grace);
    }
}
