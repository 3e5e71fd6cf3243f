using System.Diagnostics;
using System.Text;

namespace MapReduce.Submit.Bench;

/// <param name="Launcher">script: as the README's demo, the <c>./mapreduce</c> launcher in the current folder; dotnet-run: <c>dotnet run --project PROJECT -c Release --no-build --</c>; dll: this program's dll on the dotnet host.</param>
/// <param name="Store">Passed on as --store when given; otherwise the demo's own default store.</param>
public sealed record ColdBenchOptions(int Runs, string Launcher, string Project, string DataFolder, string CodeFolder, string OutputFolder, string? Store);

/// <summary>
/// The demo timed from the command: the README's job command line started as a child process
/// <c>Runs</c> times, each wall time from its start to its exit (local cluster up, job, cluster
/// down), then min/median/max. Each kind of run is a <see cref="Series"/>: a later one (say, on a
/// cluster kept running) is another entry in the list.
/// </summary>
public static class ColdBenchCommand
{
    public const string Script = "script";
    public const string DotnetRun = "dotnet-run";
    public const string Dll = "dll";

    /// <summary>A named kind of run: the command line arguments the job command is given.</summary>
    private sealed record Series(string Name, string[] Arguments);

    public static async Task<int> RunAsync(ColdBenchOptions o, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (o.Runs < 1 || o.Launcher is not (Script or DotnetRun or Dll))
        {
            error.WriteLine($"error: --runs must be at least 1 and --launcher {Script}, {DotnetRun} or {Dll}");
            return ExitCodes.UsageError;
        }
        string[] demo = ["-d", o.DataFolder, "-c", o.CodeFolder, "-o", o.OutputFolder, .. o.Store is null ? Array.Empty<string>() : ["--store", o.Store]];
        // cold: every run starts and stops its own cluster. kept: the first run leaves the cluster up
        // (--keep-cluster) and the later ones find it on the store, as a user's second demo run does.
        Series[] series = [new("cold", demo), new("kept", [.. demo, "--keep-cluster", "15s"])];
        foreach (var s in series)
        {
            output.WriteLine($"{s.Name}: {Describe(o, s.Arguments)}");
            var times = new List<TimeSpan>();
            for (var i = 1; i <= o.Runs; i++)
            {
                var (time, exit, log) = await RunOnceAsync(o, s.Arguments, ct);
                if (exit != 0)
                {
                    error.WriteLine($"error: {s.Name} run {i} exited with code {exit}:\n{log}");
                    return ExitCodes.JobFailed;
                }
                times.Add(time);
                output.WriteLine($"{s.Name} run {i}/{o.Runs}: {BenchCommand.Seconds(time)}");
            }
            var sorted = times.Order().ToList();
            output.WriteLine($"{s.Name}: min {BenchCommand.Seconds(sorted[0])}, median {BenchCommand.Seconds(sorted[sorted.Count / 2])}, max {BenchCommand.Seconds(sorted[^1])} over {o.Runs} runs");
        }
        return ExitCodes.Ok;
    }

    private static (string FileName, List<string> Arguments) CommandLine(ColdBenchOptions o, string[] jobArguments)
    {
        if (o.Launcher == Script)
            return (Path.GetFullPath("mapreduce"), [.. jobArguments]);
        if (o.Launcher == DotnetRun)
            return ("dotnet", ["run", "--project", o.Project, "-c", "Release", "--no-build", "--", .. jobArguments]);
        var host = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        return (host, [Path.Combine(AppContext.BaseDirectory, "MapReduce.Submit.dll"), .. jobArguments]);
    }

    private static string Describe(ColdBenchOptions o, string[] jobArguments)
    {
        var (file, arguments) = CommandLine(o, jobArguments);
        return string.Join(' ', arguments.Prepend(file));
    }

    /// <summary>One run, timed from just before the start to the exit; its output is kept to report a failure.</summary>
    private static async Task<(TimeSpan Time, int Exit, string Log)> RunOnceAsync(ColdBenchOptions o, string[] jobArguments, CancellationToken ct)
    {
        var (file, arguments) = CommandLine(o, jobArguments);
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var log = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        var watch = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
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
        lock (log) return (time, process.ExitCode, log.ToString());
    }
}
