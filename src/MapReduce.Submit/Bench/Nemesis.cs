using MapReduce.Node;

namespace MapReduce.Submit.Bench;

/// <summary>One fault the nemesis injected: when (from the soak's start), what, on which node.</summary>
public sealed record Fault(TimeSpan At, string Kind, string Node, string Role);

/// <summary>A node's process exited (from the soak's start), with its exit code (null: unknown): killed, downed, or crashed.</summary>
public sealed record NodeExit(TimeSpan At, string Node, int? ExitCode);

/// <summary>
/// Injects faults into a running local cluster, one after another at random (after Jepsen's
/// nemesis): SIGKILL of a random node of any role (the local cluster's supervisor starts it again), and
/// SIGSTOP of a random node for up to <see cref="LongestPause"/>, then SIGCONT, as a long GC pause or
/// a stalled VM would. Every fault is recorded. Nothing is paused once <see cref="RunAsync"/> returns.
/// </summary>
public sealed class Nemesis(LocalCluster cluster, Random random, TimeSpan every, Action<string> log)
{
    /// <summary>The longest a node stays paused: past the failure detector's pause, so some pauses down the node.</summary>
    public static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(10);

    private readonly List<Fault> _faults = [];

    public IReadOnlyList<Fault> Faults
    {
        get { lock (_faults) return _faults.ToList(); }
    }

    /// <summary>Injects faults until <paramref name="ct"/> is cancelled; each wait is up to twice <c>every</c>, at random.</summary>
    public async Task RunAsync(System.Diagnostics.Stopwatch clock, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every * (0.5 + random.NextDouble()), ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var running = cluster.Nodes.Where(n => !Exited(n)).ToList();
            if (running.Count == 0) continue;
            var node = running[random.Next(running.Count)];
            var pause = random.Next(2) == 0;
            Record(new Fault(clock.Elapsed, pause ? "pause" : "kill", node.Name, node.Roles));
            if (pause) await PauseAsync(node);
            else Kill(node);
        }
    }

    private async Task PauseAsync(NodeProcess node)
    {
        var length = LongestPause * random.NextDouble();
        log($"nemesis: pausing {node.Name} for {length.TotalSeconds:0.0} s");
        ProcessSignals.Pause(node.Process);
        try
        {
            // Not cancelled with the soak: a pause always ends, so no node is left stopped.
            await Task.Delay(length);
        }
        finally
        {
            ProcessSignals.Resume(node.Process);
        }
    }

    private void Kill(NodeProcess node)
    {
        log($"nemesis: SIGKILL {node.Name}");
        LocalCluster.Kill(node); // the local cluster's supervisor starts it again
    }

    private void Record(Fault fault)
    {
        lock (_faults) _faults.Add(fault);
    }

    /// <summary>
    /// How long after a fault the node it hit may still exit because of it: a pause of up to
    /// <see cref="LongestPause"/>, then the failure detector and the split-brain resolver's stable-after
    /// before it is downed, and the downed node's own shutdown; generous, so only a clear case counts.
    /// </summary>
    public static readonly TimeSpan ExitWindow = LongestPause + TimeSpan.FromSeconds(30);

    /// <summary>
    /// The exits no fault explains: spurious downs (a node downed while nothing was done to it, as a
    /// saturated machine can cause) and crashes. An exit is explained by a fault on the same node at
    /// most <see cref="ExitWindow"/> before it, or by an explained exit of the same node at most that
    /// plus <paramref name="longestRestartDelay"/> (mapreduce.local.restart-backoff.max) before it
    /// (its restart failed, or it was downed again as it came back).
    /// </summary>
    public static IReadOnlyList<NodeExit> Unexplained(IReadOnlyList<Fault> faults, IReadOnlyList<NodeExit> exits, TimeSpan longestRestartDelay)
    {
        var unexplained = new List<NodeExit>();
        var lastExplained = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var exit in exits.OrderBy(e => e.At))
        {
            var byFault = faults.Any(f => f.Node == exit.Node && f.At <= exit.At && exit.At - f.At <= ExitWindow);
            var byChain = lastExplained.TryGetValue(exit.Node, out var before) && exit.At - before <= ExitWindow + longestRestartDelay;
            if (byFault || byChain) lastExplained[exit.Node] = exit.At;
            else unexplained.Add(exit);
        }
        return unexplained;
    }

    private static bool Exited(NodeProcess node)
    {
        try { return node.Process.HasExited; }
        catch (InvalidOperationException) { return true; }
    }
}
