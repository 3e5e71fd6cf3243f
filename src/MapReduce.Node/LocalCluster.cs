using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MapReduce.Actors.Hosting;

namespace MapReduce.Node;

public sealed record LocalClusterOptions(string StoreFolder, int Workers, int TasksPerWorker, int SeedPort = 0, string? ConfigFile = null);

/// <summary>One node process of a local cluster; its output goes to a log file in the store.</summary>
public sealed record NodeProcess(string Name, string Roles, Process Process, string LogFile);

/// <summary>
/// Local mode: a kvstore, a master and N workers as separate OS processes on this machine, all
/// sharing one store folder (blobs, SQLite catalog and journal). Each node watches this process
/// and stops when it dies, so nothing outlives a killed submitter.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly List<NodeProcess> _nodes = [];
    private readonly List<StreamWriter> _logs = [];

    private LocalCluster(string seed, string store)
    {
        Seed = seed;
        StoreFolder = store;
    }

    public string Seed { get; }
    public string StoreFolder { get; }
    public IReadOnlyList<NodeProcess> Nodes => _nodes;

    public static async Task<LocalCluster> StartAsync(LocalClusterOptions options, CancellationToken ct = default)
    {
        var store = Path.GetFullPath(options.StoreFolder);
        Directory.CreateDirectory(Path.Combine(store, "logs"));
        var port = options.SeedPort == 0 ? FreePort() : options.SeedPort;
        var seed = $"akka.tcp://{AkkaSetup.SystemName}@127.0.0.1:{port}";
        var cluster = new LocalCluster(seed, store);
        try
        {
            // The kvstore is the seed: it must be up before anyone can store or fetch anything.
            var kv = cluster.Launch("kvstore", NodeRoles.KvStore, port, options);
            await cluster.WaitReadyAsync([kv], TimeSpan.FromSeconds(60), ct);
            var others = new List<NodeProcess> { cluster.Launch("master", NodeRoles.Master, 0, options) };
            for (var i = 1; i <= options.Workers; i++) others.Add(cluster.Launch($"worker-{i}", NodeRoles.Worker, 0, options));
            await cluster.WaitReadyAsync(others, TimeSpan.FromSeconds(90), ct);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public NodeProcess Launch(string name, string roles, int port, LocalClusterOptions options)
    {
        var (fileName, prefix) = NodeCommandLine();
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = StoreFolder,
        };
        foreach (var arg in prefix) start.ArgumentList.Add(arg);
        string[] args =
        [
            "--role", roles, "--port", port.ToString(), "--seed", Seed,
            "--data-dir", StoreFolder,
            "--catalog", Path.Combine(StoreFolder, "catalog.db"),
            "--journal", Path.Combine(StoreFolder, "journal.db"),
            "--tasks-per-worker", options.TasksPerWorker.ToString(),
            "--parent-pid", Environment.ProcessId.ToString(),
        ];
        foreach (var arg in args) start.ArgumentList.Add(arg);
        if (options.ConfigFile is not null)
        {
            start.ArgumentList.Add("--config");
            start.ArgumentList.Add(Path.GetFullPath(options.ConfigFile));
        }

        var logFile = Path.Combine(StoreFolder, "logs", $"{name}.log");
        var log = new StreamWriter(logFile, append: false) { AutoFlush = true };
        _logs.Add(log);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var node = new NodeProcess(name, roles, process, logFile);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Ready[node] = ready;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            WriteLog(log, e.Data);
            if (e.Data.StartsWith(NodeHost.ReadyLine, StringComparison.Ordinal)) ready.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            WriteLog(log, e.Data);
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"node {name} exited before joining the cluster; see {logFile}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _nodes.Add(node);
        return node;
    }

    private static void WriteLog(StreamWriter log, string line)
    {
        lock (log)
        {
            try { log.WriteLine(line); }
            catch (ObjectDisposedException) { } // output that arrives after the cluster was disposed
        }
    }

    private Dictionary<NodeProcess, TaskCompletionSource> Ready { get; } = new();

    private async Task WaitReadyAsync(IReadOnlyList<NodeProcess> nodes, TimeSpan timeout, CancellationToken ct)
    {
        var all = Task.WhenAll(nodes.Select(n => Ready[n].Task));
        var finished = await Task.WhenAny(all, Task.Delay(timeout, ct));
        if (finished != all)
        {
            ct.ThrowIfCancellationRequested();
            var late = nodes.Where(n => !Ready[n].Task.IsCompleted).Select(n => n.Name);
            throw new TimeoutException($"local cluster: {string.Join(", ", late)} did not join within {timeout.TotalSeconds:0} s; logs are in {Path.Combine(StoreFolder, "logs")}");
        }
        await all;
    }

    /// <summary>How to start MapReduce.Node: its apphost if present, else the dotnet host with its dll (both next to this assembly).</summary>
    private static (string FileName, string[] Prefix) NodeCommandLine()
    {
        var folder = AppContext.BaseDirectory;
        var dll = Path.Combine(folder, "MapReduce.Node.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"MapReduce.Node.dll not found in {folder}");
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (string.IsNullOrEmpty(host) || !File.Exists(host))
        {
            var current = Environment.ProcessPath;
            host = current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
        }
        return (host, [dll]);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        // All at once: when the whole cluster goes down there is nobody to hand work over to.
        await Task.WhenAll(_nodes.Select(n => ProcessSignals.StopAsync(n.Process, TimeSpan.FromSeconds(10))));
        foreach (var node in _nodes) node.Process.Dispose();
        foreach (var log in _logs)
        {
            lock (log) log.Dispose();
        }
    }
}
