using System.Diagnostics;

namespace MapReduce.IntegrationTests;

/// <summary>
/// A local cluster started with `MapReduce.Node local` (a kvstore, a master and two workers, each
/// its own process) for the tests of one class; stopped with SIGTERM afterwards, and checked to
/// leave no node process behind. A subclass may give HOCON that every node reads (--config).
/// </summary>
public class RunningCluster : IAsyncLifetime
{
    private readonly string? _hocon;

    // xunit builds a fixture with its one public constructor.
    public RunningCluster() { }

    protected RunningCluster(string hocon) => _hocon = hocon;

    private Process? _process;
    private readonly List<string> _output = [];

    public string Store { get; } = Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"));
    public string Seed { get; private set; } = "";

    /// <summary>The masters' control API URLs, comma-separated, as --cluster takes them.</summary>
    public string Api { get; private set; } = "";

    /// <summary>The `MapReduce.Node local` process, which holds the store.</summary>
    public int Pid => _process?.Id ?? 0;

    /// <summary>A cluster whose nodes all read this HOCON (for a test that starts and stops it itself).</summary>
    public static RunningCluster WithHocon(string hocon) => new(hocon);

    /// <summary>What `MapReduce.Node local` has printed so far (its restarts of nodes, say).</summary>
    public string Output
    {
        get { lock (_output) return string.Join('\n', _output); }
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Store);
        var port = MapReduce.Node.LocalCluster.FreePort();
        string[] args = ["local", "--store", Store, "--workers", "2", "--port", port.ToString()];
        if (_hocon is not null)
        {
            // Beside the store, not in it: the store folder is the cluster's own.
            var config = Store + ".hocon";
            await File.WriteAllTextAsync(config, _hocon);
            args = [.. args, "--config", config];
        }
        _process = Process.Start(Cli.StartInfo("MapReduce.Node", args))!;
        var up = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (_output) _output.Add(e.Data);
            if (e.Data?.StartsWith("cluster is up; seed ", StringComparison.Ordinal) == true) Seed = e.Data["cluster is up; seed ".Length..];
            if (e.Data?.StartsWith(ApiLine, StringComparison.Ordinal) == true) up.TrySetResult(string.Join(',', e.Data[ApiLine.Length..].Split(' ')));
        };
        _process.ErrorDataReceived += (_, _) => { };
        _process.Exited += (_, _) => up.TrySetException(new InvalidOperationException("MapReduce.Node local exited early"));
        _process.EnableRaisingEvents = true;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var finished = await Task.WhenAny(up.Task, Task.Delay(TimeSpan.FromSeconds(120)));
        if (finished != up.Task) throw new TimeoutException("local cluster did not come up within 120 s");
        Api = await up.Task;
    }

    private const string ApiLine = "status page and control API: ";

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            MapReduce.Node.ProcessSignals.Terminate(_process);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try { await _process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
            _process.Dispose();
        }
        try { await Cli.AssertNoNodeProcessesLeftAsync(Store); }
        finally
        {
            try { Directory.Delete(Store, recursive: true); } catch (IOException) { }
            File.Delete(Store + ".hocon");
        }
    }

}
