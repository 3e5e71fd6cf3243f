using System.Runtime.InteropServices;

namespace MapReduce.IntegrationTests;

/// <summary>
/// Makes SIGINT reach the processes a test starts. A test run started in the background of a
/// non-interactive shell (`cmd &`, nohup) inherits SIGINT as ignored; its children inherit that too,
/// and .NET does not handle a signal that was ignored when the process started (as a shell would
/// not), so Ctrl+C sent to the CLI did nothing. Restores the default disposition only when it is
/// "ignored": a handler the runtime installed is left alone.
/// </summary>
public static class InterruptSignal
{
    private const int SigInt = 2;
    private static readonly IntPtr Ignored = 1; // SIG_IGN

    [DllImport("libc", SetLastError = true)]
    private static extern int sigaction(int signal, IntPtr action, IntPtr oldAction);

    public static void StopIgnoring()
    {
        // struct sigaction is 152 bytes on 64-bit glibc; its first field is the handler.
        var old = Marshal.AllocHGlobal(256);
        var fresh = Marshal.AllocHGlobal(256);
        try
        {
            if (sigaction(SigInt, IntPtr.Zero, old) != 0 || Marshal.ReadIntPtr(old) != Ignored) return;
            for (var i = 0; i < 256; i++) Marshal.WriteByte(fresh, i, 0); // SIG_DFL, no flags, empty mask
            sigaction(SigInt, fresh, IntPtr.Zero);
        }
        finally
        {
            Marshal.FreeHGlobal(old);
            Marshal.FreeHGlobal(fresh);
        }
    }

    /// <summary>Whether <paramref name="pid"/> ignores SIGINT (bit 2 of SigIgn in /proc/PID/status).</summary>
    public static bool IsIgnoredBy(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("SigIgn:"));
        return (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (SigInt - 1))) != 0;
    }
}
