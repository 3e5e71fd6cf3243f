using System.Diagnostics;

namespace MapReduce.Submit.Bench;

/// <summary>A classic Unix pipeline timed as a whole (bash -c), as a benchmark's baseline in the same run.</summary>
public static class ShellBaseline
{
    /// <summary>Runs <paramref name="pipeline"/> under bash with LC_ALL=C; returns its wall time, or throws with its error output when it fails.</summary>
    public static async Task<TimeSpan> TimeAsync(string pipeline, CancellationToken ct)
    {
        var start = new ProcessStartInfo("bash", ["-c", "set -o pipefail; " + pipeline])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.Environment["LC_ALL"] = "C";
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new BenchException($"could not start bash for: {pipeline}");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        var time = watch.Elapsed;
        await output;
        if (process.ExitCode != 0) throw new BenchException($"the baseline '{pipeline}' failed (exit code {process.ExitCode}): {(await error).Trim()}");
        return time;
    }

    /// <summary>A path quoted for bash.</summary>
    public static string Quote(string path) => "'" + path.Replace("'", "'\\''") + "'";
}
