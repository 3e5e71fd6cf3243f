using System.Diagnostics;
using MapReduce.Actors.Hosting;

namespace MapReduce.Node;

/// <summary>
/// Starts a node process and tells when it is ready: every output line goes to the caller's log,
/// and the node is ready once it prints <see cref="NodeHost.ReadyLine"/>. The one launcher of the
/// CLI's local mode (<see cref="LocalCluster"/>) and of the test harnesses that place nodes on
/// hosts of their own.
/// </summary>
public static class NodeLauncher
{
    /// <summary>
    /// Starts <paramref name="process"/> (its output must be redirected); the task completes at the
    /// ready line and fails with <see cref="LocalClusterException"/> if the process exits first.
    /// </summary>
    public static Task Start(string name, Process process, string logFile, Action<string> writeLine)
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.EnableRaisingEvents = true;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            writeLine(e.Data);
            if (NodeConsole.ReadyText(e.Data) is not null) ready.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) writeLine(e.Data);
        };
        process.Exited += (_, _) => ready.TrySetException(new LocalClusterException($"node {name} exited before joining the cluster; see {logFile}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return ready.Task;
    }

    /// <summary>
    /// Waits until every node printed its ready line. A node that exits first fails the wait at
    /// once, not after the others' timeout; on timeout the message names the late nodes and <paramref name="logs"/>.
    /// </summary>
    public static async Task WaitReadyAsync(IReadOnlyList<(string Name, Task Ready)> nodes, TimeSpan timeout, string logs, CancellationToken ct = default)
    {
        var all = Task.WhenAll(nodes.Select(n => n.Ready));
        var firstFailure = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var (_, ready) in nodes)
            _ = ready.ContinueWith(t => firstFailure.TrySetResult(t), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        var finished = await Task.WhenAny(all, firstFailure.Task, Task.Delay(timeout, ct));
        if (finished == firstFailure.Task) await await firstFailure.Task;
        if (finished != all)
        {
            ct.ThrowIfCancellationRequested();
            var late = nodes.Where(n => !n.Ready.IsCompleted).Select(n => n.Name);
            throw new TimeoutException($"{string.Join(", ", late)} did not join within {Durations.Say(timeout)}; logs are in {logs}");
        }
        await all;
    }
}
