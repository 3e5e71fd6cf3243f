using MapReduce.Actors.Hosting;
namespace MapReduce.Node;

/// <summary>
/// Keeps the masters and workers of a local cluster running: when one's process exits, it is
/// started again under the same name, roles and port after a <see cref="RestartBackoff"/> delay.
/// Each restart is reported on <c>output</c> (local mode's stdout) and in the node's log file.
/// <see cref="StopAsync"/> ends supervision; the cluster calls it before it stops its nodes.
/// </summary>
internal sealed class NodeSupervisor(LocalCluster cluster, TimeProvider time, TextWriter output, NodeRestartSettings restarts)
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    /// <summary>Supervises <paramref name="node"/> (and every process later started in its place) until <see cref="StopAsync"/>.</summary>
    public void Watch(NodeProcess node)
    {
        lock (_loops)
        {
            if (_stop.IsCancellationRequested) return;
            _loops.Add(Task.Run(() => SuperviseAsync(node, _stop.Token)));
        }
    }

    private async Task SuperviseAsync(NodeProcess node, CancellationToken ct)
    {
        var backoff = new RestartBackoff(time, restarts);
        try
        {
            while (true)
            {
                await node.Process.WaitForExitAsync(ct);
                var exitCode = ExitCodeOf(node);
                cluster.ReportExit(node, exitCode);
                if (exitCode == NodeHost.RefusedExitCode)
                {
                    // Its stores are not the cluster's: the same arguments would be refused again.
                    Report(node.Name, $"{node.Name} was refused by the cluster (exit code {NodeHost.RefusedExitCode}; see its log); not restarting it");
                    return;
                }
                var reason = $"exited with code {exitCode?.ToString() ?? "unknown"}";
                while (true)
                {
                    var delay = backoff.NextDelay();
                    Report(node.Name, $"{node.Name} {reason}; restarting it in {delay.TotalSeconds:0} s (restart {backoff.Restarts})");
                    await Task.Delay(delay, time, ct);
                    ct.ThrowIfCancellationRequested();
                    // Up time counts from this attempt, so one that fails at once is a quick exit too.
                    backoff.Started();
                    try
                    {
                        node = cluster.Relaunch(node);
                        break;
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        reason = $"could not be started again ({e.Message})";
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The cluster is stopping: nothing more to restart.
        }
    }

    /// <summary>The exited process's code; null when the runtime cannot tell it.</summary>
    private static int? ExitCodeOf(NodeProcess node)
    {
        try { return node.Process.ExitCode; }
        catch (InvalidOperationException) { return null; }
    }

    private void Report(string name, string line)
    {
        output.WriteLine(line);
        cluster.AppendToLog(name, line);
    }

    /// <summary>Stops supervising and waits until no restart is under way: afterwards the cluster's node list is final.</summary>
    public async Task StopAsync()
    {
        Task[] loops;
        lock (_loops)
        {
            _stop.Cancel();
            loops = [.. _loops];
        }
        await Task.WhenAll(loops);
    }
}
