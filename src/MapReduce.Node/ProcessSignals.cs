using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MapReduce.Node;

/// <summary>
/// Graceful stop of a child process: SIGTERM (coordinated shutdown in the node), then a kill after
/// a grace period. When local mode stops its whole cluster it first sends SIGUSR1 (Linux), on
/// which a node downs the cluster instead of leaving it (see <see cref="NodeHost"/>).
/// </summary>
public static class ProcessSignals
{
    private const int SigTerm = 15;
    private const int SigUsr1 = 10; // its number on Linux; elsewhere the whole-cluster stop is a SIGTERM
    private const int SigStop = 19; // SIGSTOP and SIGCONT: their numbers on Linux x86-64 and arm64
    private const int SigCont = 18;

    /// <summary>Whether nodes listen for, and local mode sends, the whole-cluster stop signal.</summary>
    private static bool HasClusterStopSignal => OperatingSystem.IsLinux();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    public static void Terminate(Process process)
    {
        if (process.HasExited) return;
        if (OperatingSystem.IsWindows()) process.Kill(entireProcessTree: true);
        else SysKill(process.Id, SigTerm);
    }

    /// <summary>SIGSTOP: the process stops running until <see cref="Resume"/>, as in a long GC pause or a VM stall (Linux).</summary>
    public static void Pause(Process process)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("pausing a process needs Linux signals");
        SysKill(process.Id, SigStop);
    }

    /// <summary>SIGCONT: a paused process runs again.</summary>
    public static void Resume(Process process)
    {
        if (OperatingSystem.IsLinux()) SysKill(process.Id, SigCont);
    }

    /// <summary>Runs <paramref name="stop"/> when this process gets the whole-cluster stop signal; dispose to stop listening.</summary>
    public static IDisposable? OnClusterStop(Action stop) =>
        !HasClusterStopSignal ? null : PosixSignalRegistration.Create((PosixSignal)SigUsr1, context =>
        {
            context.Cancel = true; // not the default action, which ends the process at once
            stop();
        });

    /// <summary>
    /// Stops a node: with <paramref name="wholeCluster"/> (every node is being stopped) the
    /// whole-cluster signal first and SIGTERM after that long (mapreduce.local.cluster-stop-grace);
    /// else SIGTERM at once. A kill after <paramref name="grace"/> more (mapreduce.local.stop-grace).
    /// </summary>
    public static async Task StopAsync(Process process, TimeSpan grace, TimeSpan? wholeCluster = null)
    {
        try
        {
            if (wholeCluster is { } clusterStopGrace && HasClusterStopSignal && !process.HasExited)
            {
                SysKill(process.Id, SigUsr1);
                if (await ExitsWithinAsync(process, clusterStopGrace)) return;
            }
            Terminate(process);
            if (!await ExitsWithinAsync(process, grace))
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException) { }
    }

    private static async Task<bool> ExitsWithinAsync(Process process, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
