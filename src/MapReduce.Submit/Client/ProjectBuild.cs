using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.UserCode;
using MapReduce.Storage.Chunking;

namespace MapReduce.Submit.Client;

/// <summary>
/// A job project made ready to ship: `dotnet publish -c Release` into a fresh folder (its
/// assembly, its .deps.json and the assemblies of the NuGet packages it references), its job
/// class and functions checked as a worker checks them (no job code runs), and the folder packed
/// into one archive (<see cref="JobArchive"/>). A project that does not build, or lacks the
/// functions, is an <see cref="InputException"/> that gives the compiler's errors with file and
/// line, or the signatures expected, before anything reaches the cluster.
/// </summary>
public static partial class ProjectBuild
{
    /// <summary>Compiler errors kept in the message; the rest are counted.</summary>
    private const int MaxErrors = 20;

    /// <param name="timeout">The longest the build may take (mapreduce.client.build-timeout; null: hocon/mapreduce.hocon's).</param>
    public static async Task<byte[]> ArchiveAsync(string csproj, CancellationToken ct, TimeSpan? timeout = null)
    {
        var output = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mapreduce-build", Guid.NewGuid().ToString("N"))).FullName;
        var buildTimeout = timeout ?? MapReduceSettings.Defaults.Client.BuildTimeout;
        try
        {
            // The turn may wait out another build of up to the default build timeout, whatever this one's own.
            var turnTimeout = buildTimeout > MapReduceSettings.Defaults.Client.BuildTimeout ? buildTimeout : MapReduceSettings.Defaults.Client.BuildTimeout;
            using (await TakeTurnAsync(turnTimeout, ct).ConfigureAwait(false))
                await PublishAsync(csproj, output, buildTimeout, ct).ConfigureAwait(false);
            try
            {
                ProjectJob.Check(output);
                return JobArchive.Create(output);
            }
            catch (Exception e) when (e is CompileErrorException or JobArchiveException)
            {
                throw new InputException($"job project {System.IO.Path.GetFileName(csproj)}: {e.Message}");
            }
        }
        finally
        {
            try { Directory.Delete(output, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// Waits until no other build of a job project runs on this machine (for this user), then holds
    /// the turn until disposed. Two builds of one project, or of two projects that reference the same
    /// one (the repository's SDK), write the same obj/ and bin/ folders: at the same time they can
    /// leave a mix of both (two CLIs submitting at once; the unit and integration tests did).
    /// </summary>
    public static async Task<IDisposable> TakeTurnAsync(TimeSpan timeout, CancellationToken ct)
    {
        var path = System.IO.Path.Combine(Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mapreduce-build")).FullName, "turn.lock");
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive lock on the file across processes (flock on Unix); the process's end releases it.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < timeout)
            {
                await Task.Delay(100, ct).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new InputException($"another build of a job project on this machine held {path} for {Durations.Say(timeout)}; try again once it is over ({e.Message})");
            }
        }
    }

    private static async Task PublishAsync(string csproj, string output, TimeSpan buildTimeout, CancellationToken ct)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(csproj))!,
        };
        foreach (var arg in new[] { "publish", System.IO.Path.GetFullPath(csproj), "-c", "Release", "-o", output, "-nologo", "-v", "quiet", "-clp:NoSummary" })
            start.ArgumentList.Add(arg);
        using var process = new Process { StartInfo = start };
        var text = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (text) text.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (text) text.AppendLine(e.Data); };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InputException($"cannot build job project {System.IO.Path.GetFileName(csproj)}: `dotnet` did not start ({e.Message}); a job project needs the .NET SDK");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(buildTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (ct.IsCancellationRequested) throw;
            throw new InputException($"job project {System.IO.Path.GetFileName(csproj)} did not build within {(buildTimeout.TotalMinutes % 1 == 0 ? $"{buildTimeout.TotalMinutes:0} minutes" : Durations.Format(buildTimeout))}");
        }
        if (process.ExitCode != 0) throw new InputException(BuildFailure(csproj, text.ToString()));
    }

    /// <summary>"job project X does not build:" and its errors as compilers print them, paths relative to the project's folder; else the build's own last lines.</summary>
    public static string BuildFailure(string csproj, string buildOutput)
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(csproj))! + System.IO.Path.DirectorySeparatorChar;
        var errors = buildOutput.Split('\n').Select(l => l.TrimEnd('\r').Trim())
            .Where(l => ErrorLine().IsMatch(l))
            .Select(l => ProjectSuffix().Replace(l, "")) // MSBuild's " [/path/X.csproj]"
            .Select(l => l.StartsWith(folder, StringComparison.Ordinal) ? l[folder.Length..] : l)
            .Distinct()
            .ToList();
        var lines = errors.Count > 0
            ? errors.Take(MaxErrors).Concat(errors.Count > MaxErrors ? [$"... and {errors.Count - MaxErrors} more errors"] : [])
            : buildOutput.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).TakeLast(10);
        return $"job project {System.IO.Path.GetFileName(csproj)} does not build:\n{string.Join('\n', lines)}";
    }

    /// <summary>The dotnet host this CLI runs on (it is run as `dotnet MapReduce.Submit.dll`), else `dotnet` from the PATH.</summary>
    private static string DotnetHost() =>
        Environment.ProcessPath is { } path && System.IO.Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    [GeneratedRegex(@":\s+error\s+[A-Z]+\d+\s*:")]
    private static partial Regex ErrorLine();

    [GeneratedRegex(@"\s+\[[^\[\]]+\.(cs|fs|vb)proj\]$")]
    private static partial Regex ProjectSuffix();
}
