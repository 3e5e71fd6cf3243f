using System.Diagnostics;
using System.Text;

namespace MapReduce.IntegrationTests;

public sealed record CliResult(int ExitCode, string Output, string Error)
{
    /// <summary>The id in the CLI's "job J succeeded" line; empty when there is none.</summary>
    public string SucceededJob => System.Text.RegularExpressions.Regex.Match(Output, @"job (job-\S+) succeeded").Groups[1].Value;

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

/// <summary>Runs MapReduce.Submit / MapReduce.Node as real processes from the test's output folder.</summary>
public static class Cli
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Samples(string path) => Path.Combine(RepoRoot, "samples", path);

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MapReduce.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("MapReduce.sln not found above the test folder");
    }

    public static ProcessStartInfo StartInfo(string program, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, program + ".dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        return start;
    }

    /// <param name="withoutToken">Run without the test run's MAPREDUCE_TOKEN, as a user who configured nothing.</param>
    public static Task<CliResult> RunAsync(string program, IEnumerable<string> args, TimeSpan timeout, bool withoutToken = false)
    {
        var start = StartInfo(program, args);
        if (withoutToken) start.Environment.Remove(MapReduce.Actors.Hosting.ClusterToken.EnvironmentVariable);
        return RunAsync(start, timeout);
    }

    /// <summary>Runs a prepared command line (e.g. a program on another host, <see cref="NetworkHosts.StartInfo"/>) to its end.</summary>
    public static async Task<CliResult> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        var (program, args) = (start.FileName, start.ArgumentList);
        using var process = new Process { StartInfo = start };
        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish within {timeout}:\n{output}\n{error}");
        }
        return new CliResult(process.ExitCode, output.ToString(), error.ToString());
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    /// <summary>SIGINT, as Ctrl+C in a terminal sends it.</summary>
    public static void Interrupt(Process process) => SysKill(process.Id, 2);

    public static Task<CliResult> SubmitAsync(params string[] args) => RunAsync("MapReduce.Submit", args, TimeSpan.FromMinutes(4));

    /// <summary>PIDs of MapReduce.Node processes whose command line names this store folder (and, if given, this role).</summary>
    public static IReadOnlyList<int> NodeProcessesUsing(string store, string? role = null)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains("MapReduce.Node.dll") && cmdline.Contains(store) && (role is null || cmdline.Contains($" --role {role} "))) pids.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return pids;
    }

    /// <summary>Waits for something another process does in its own time; fails with <paramref name="failure"/> after <paramref name="timeout"/>.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, TimeSpan timeout, string failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.True(condition(), failure);
    }

    /// <summary>Waits up to 20 s for every node process of a store to end, kills stragglers, and fails if there were any.</summary>
    public static async Task AssertNoNodeProcessesLeftAsync(string store)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (NodeProcessesUsing(store).Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(200);
        var left = NodeProcessesUsing(store);
        foreach (var pid in left)
        {
            try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        }
        Assert.True(left.Count == 0, $"node processes left running after the cluster stopped: {string.Join(", ", left)}");
    }
}
