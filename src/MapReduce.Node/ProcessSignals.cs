using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MapReduce.Node;

/// <summary>Graceful stop of a child process: SIGTERM (coordinated shutdown in the node), then a kill after a grace period.</summary>
public static class ProcessSignals
{
    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    public static void Terminate(Process process)
    {
        if (process.HasExited) return;
        if (OperatingSystem.IsWindows()) process.Kill(entireProcessTree: true);
        else SysKill(process.Id, SigTerm);
    }

    public static async Task StopAsync(Process process, TimeSpan grace)
    {
        try
        {
            Terminate(process);
            using var timeout = new CancellationTokenSource(grace);
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        catch (InvalidOperationException) { }
    }
}
