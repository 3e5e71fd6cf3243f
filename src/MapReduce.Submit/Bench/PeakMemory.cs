using System.Diagnostics;

namespace MapReduce.Submit.Bench;

/// <summary>Peak resident memory of processes (Linux VmHWM, through Process.PeakWorkingSet64).</summary>
public static class PeakMemory
{
    public static long Of(Process process)
    {
        process.Refresh();
        return process.PeakWorkingSet64;
    }

    /// <summary>Resets this process's peak to its current size (Linux: clear_refs 5), so one phase can be measured alone.</summary>
    public static void ResetSelf()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static string Megabytes(long bytes) => $"{bytes / 1_000_000.0:0} MB";
}
