using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MapReduce.Actors.Hosting;

namespace MapReduce.Node;

/// <summary>A node of a local cluster could not be started; the message names it and its log.</summary>
public sealed class LocalClusterException(string message) : Exception(message);

/// <param name="Catalog">Catalog database for every node (a SQLite path or <c>postgres:…</c>); null: <c>catalog.db</c> in the store folder.</param>
/// <param name="Journal">The masters' journal database, likewise; null: <c>journal.db</c> in the store folder.</param>
/// <param name="SingleProcess">One node process carries every role (kvstore, master, worker with <paramref name="TasksPerWorker"/> slots); <paramref name="Workers"/> and <paramref name="Masters"/> are then ignored.</param>
public sealed record LocalClusterOptions(string StoreFolder, int Workers, int TasksPerWorker, int SeedPort = 0, string? ConfigFile = null, int Masters = 2,
    string? Catalog = null, string? Journal = null, bool SingleProcess = false);

/// <summary>One node process of a local cluster; its output goes to a log file in the store.</summary>
public sealed record NodeProcess(string Name, string Roles, Process Process, string LogFile, int Port = 0);

/// <summary>
/// Local mode: a kvstore, a master and N workers as separate OS processes on this machine, all
/// sharing one store folder (blobs, SQLite catalog and journal). Each node watches this process
/// and stops when it dies, so nothing outlives a killed submitter. A cluster started with
/// <see cref="StartAsync"/> restarts masters and workers that exit (<see cref="NodeSupervisor"/>).
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    /// <summary>The newest process of each node, in launch order; its lock also guards <see cref="_replaced"/>.</summary>
    private readonly List<NodeProcess> _nodes = [];
    /// <summary>Processes since replaced by a newer one under the same name: stopped (if still running) and disposed with the cluster.</summary>
    private readonly List<NodeProcess> _replaced = [];
    /// <summary>One writer per node name: a node started again appends to the same log.</summary>
    private readonly Dictionary<string, StreamWriter> _logs = [];
    private NodeSupervisor? _supervisor;

    private readonly LocalClusterOptions _options;
    private readonly StoreLock _storeLock;
    /// <summary>https when the config gives the nodes a certificate (mapreduce.tls).</summary>
    private readonly string _apiScheme;
    /// <summary>The nodes' settings (their --config over hocon/mapreduce.hocon): TLS and how exited nodes are restarted.</summary>
    private readonly MapReduceSettings _settings;

    private LocalCluster(string seed, string token, string store, LocalClusterOptions options, StoreLock storeLock)
    {
        Seed = seed;
        Token = token;
        StoreFolder = store;
        _options = options;
        _storeLock = storeLock;
        _settings = options.ConfigFile is not null ? MapReduceSettings.From(MapReduceSettings.LoadConfig(options.ConfigFile)) : MapReduceSettings.Defaults;
        _apiScheme = _settings.Tls.Enabled ? "https" : "http";
    }

    public string Seed { get; }
    public string StoreFolder { get; }

    /// <summary>
    /// The cluster token every node asks of HTTP requests: MAPREDUCE_TOKEN when set, else a random
    /// one made for this cluster. Nodes get it in their environment (not on their command line,
    /// which other users can list); the CLI finds it in the store's owner file (<see cref="StoreLock"/>).
    /// </summary>
    public string Token { get; }

    /// <summary>Each master node's control API port, kept across its restarts so its URL stays valid.</summary>
    private readonly Dictionary<string, int> _apiPorts = [];

    /// <summary>The control API of each master node (any one answers): what the CLI talks to.</summary>
    public IReadOnlyList<string> ApiUrls
    {
        get { lock (_apiPorts) return [.. _apiPorts.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{_apiScheme}://127.0.0.1:{p.Value}/")]; }
    }

    /// <summary>
    /// Raised (on a supervisor's thread) when a supervised node's process exits, with its name and exit
    /// code (null when the runtime cannot tell it), before it is started again: what a soak compares
    /// with the faults it injected.
    /// </summary>
    public event Action<string, int?>? NodeExited;

    internal void ReportExit(NodeProcess node, int? exitCode) => NodeExited?.Invoke(node.Name, exitCode);

    /// <summary>The current process of each node (a restarted node's newest one).</summary>
    public IReadOnlyList<NodeProcess> Nodes
    {
        get { lock (_nodes) return [.. _nodes]; }
    }

    /// <summary>
    /// Starts the whole cluster and returns once every node has joined. From then on a master or
    /// worker whose process exits is started again (see <see cref="NodeSupervisor"/>), reported on
    /// stdout and in its log, until the cluster is disposed.
    /// </summary>
    public static async Task<LocalCluster> StartAsync(LocalClusterOptions options, CancellationToken ct = default)
    {
        var cluster = Create(options);
        try
        {
            if (options.SingleProcess)
            {
                // Akka, the hosting and the catalog are compiled once instead of in every process:
                // on 2 cores the cluster is up in ~4 s instead of ~20 s (docs/speed.md).
                var node = cluster.Launch("node", string.Join(',', NodeRoles.KvStore, NodeRoles.Master, NodeRoles.Worker), cluster.SeedPort);
                await cluster.WaitReadyAsync([node], cluster._settings.LocalWaits.StartTimeout, ct);
                cluster.Supervise([node], Console.Out, TimeProvider.System);
                return cluster;
            }
            // The kvstore is the seed. All processes start at once: the others retry joining the
            // seed until it listens, so their start-up (JIT, Akka) overlaps the kvstore's.
            var kv = cluster.Launch("kvstore", NodeRoles.KvStore, cluster.SeedPort);
            var others = new List<NodeProcess>();
            for (var i = 1; i <= options.Masters; i++) others.Add(cluster.Launch($"master-{i}", NodeRoles.Master));
            for (var i = 1; i <= options.Workers; i++) others.Add(cluster.Launch($"worker-{i}", NodeRoles.Worker));
            await cluster.WaitReadyAsync([kv, .. others], cluster._settings.LocalWaits.StartTimeout, ct);
            // The kvstore too: one downed after a long pause exits for its supervisor to start it again.
            cluster.Supervise([kv, .. others], Console.Out, TimeProvider.System);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A cluster with no node started yet; <see cref="Launch"/> starts them one by one (tests use
    /// this to kill and restart nodes); unlike <see cref="StartAsync"/>, nothing restarts them on its
    /// own. It holds the store until disposed: a second local cluster on the same store is refused
    /// (<see cref="StoreLock"/>).
    /// </summary>
    public static LocalCluster Create(LocalClusterOptions options)
    {
        var store = Path.GetFullPath(options.StoreFolder);
        var port = options.SeedPort == 0 ? FreePort() : options.SeedPort;
        var seed = $"akka.tcp://{AkkaSetup.SystemName}@127.0.0.1:{port}";
        var token = ClusterToken.From(null) ?? ClusterToken.New();
        var storeLock = StoreLock.Acquire(store, seed, token);
        Directory.CreateDirectory(Path.Combine(store, "logs"));
        return new LocalCluster(seed, token, store, options, storeLock) { SeedPort = port };
    }

    public int SeedPort { get; private init; }

    /// <summary>A node's Akka address, from the last ready line in its log; null before its first.</summary>
    public static string? AkkaAddress(NodeProcess node)
    {
        using var reader = new StreamReader(new FileStream(node.LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var ready = reader.ReadToEnd().Split('\n').Select(NodeConsole.ReadyText).LastOrDefault(l => l is not null);
        return ready?.Split(' ').Single(p => p.StartsWith("address=", StringComparison.Ordinal))["address=".Length..].Trim();
    }

    /// <summary>
    /// Starts a node again under its name, roles and port, seeded also by the running masters: the
    /// kvstore is the first seed, and seeded by itself alone a restarted kvstore would start a
    /// cluster of its own, as would others fail to join while the kvstore is down.
    /// </summary>
    public NodeProcess Relaunch(NodeProcess node)
    {
        var masters = Nodes.Where(n => n.Name != node.Name && n.Roles.Split(',').Contains(NodeRoles.Master) && !HasExited(n))
            .Select(AkkaAddress).OfType<string>().ToList();
        return Launch(node.Name, node.Roles, node.Port, masters);
    }

    /// <summary>Starts the kvstore again (<see cref="Relaunch"/>) and waits until it has joined.</summary>
    public async Task<NodeProcess> RestartKvStoreAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        var node = Relaunch(Nodes.Single(n => n.Name == "kvstore"));
        await WaitReadyAsync([node], timeout, ct);
        return node;
    }

    /// <summary>SIGKILL, as a crash would: no coordinated shutdown, no goodbye to the cluster.</summary>
    public static void Kill(NodeProcess node)
    {
        try { node.Process.Kill(); } catch (InvalidOperationException) { }
    }

    /// <summary>Restarts <paramref name="nodes"/> whenever their process exits, until the cluster is disposed.</summary>
    private void Supervise(IEnumerable<NodeProcess> nodes, TextWriter output, TimeProvider time)
    {
        _supervisor = new NodeSupervisor(this, time, output, _settings.LocalRestart);
        foreach (var node in nodes) _supervisor.Watch(node);
    }

    /// <summary>
    /// Starts a node process. A name already launched is started again: its log file is appended
    /// to, and <see cref="Nodes"/> shows the new process in place of the old one.
    /// </summary>
    /// <param name="moreSeeds">Seeds tried before the kvstore's (a restarted kvstore must join the running cluster through another node, or it would start a cluster of its own).</param>
    /// <summary>The environment variable that holds a launched node's name (kvstore, master-1, worker-2).</summary>
    public const string NodeNameVariable = "MAPREDUCE_NODE_NAME";

    public NodeProcess Launch(string name, string roles, int port = 0, IReadOnlyList<string>? moreSeeds = null)
    {
        var options = _options;
        var (fileName, prefix) = NodeCommandLine();
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = StoreFolder,
        };
        foreach (var arg in prefix) start.ArgumentList.Add(arg);
        start.Environment[ClusterToken.EnvironmentVariable] = Token;
        // Which local node a process is (worker-2): for logs, and for test scripts that slow one worker down.
        start.Environment[NodeNameVariable] = name;
        string[] args =
        [
            "--role", roles, "--port", port.ToString(), "--seed", Seed,
            "--data-dir", StoreFolder,
            "--catalog", options.Catalog ?? Path.Combine(StoreFolder, "catalog.db"),
            "--journal", options.Journal ?? Path.Combine(StoreFolder, "journal.db"),
            "--tasks-per-worker", options.TasksPerWorker.ToString(),
            "--parent-pid", Environment.ProcessId.ToString(),
        ];
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var seed in moreSeeds ?? [])
        {
            start.ArgumentList.Add("--seed");
            start.ArgumentList.Add(seed);
        }
        if (roles.Split(',').Contains(NodeRoles.Master))
        {
            int apiPort;
            lock (_apiPorts)
            {
                if (!_apiPorts.TryGetValue(name, out apiPort)) _apiPorts[name] = apiPort = FreePort();
            }
            start.ArgumentList.Add("--http-port");
            start.ArgumentList.Add(apiPort.ToString());
            _storeLock.Describe(Seed, Token, ApiUrls);
        }
        if (options.ConfigFile is not null)
        {
            start.ArgumentList.Add("--config");
            start.ArgumentList.Add(Path.GetFullPath(options.ConfigFile));
        }

        var logFile = Path.Combine(StoreFolder, "logs", $"{name}.log");
        var log = LogWriter(name, logFile);
        var process = new Process { StartInfo = start };
        var node = new NodeProcess(name, roles, process, logFile, port);
        Ready[node] = NodeLauncher.Start(name, process, logFile, line => WriteLog(log, line));
        lock (_nodes)
        {
            var earlier = _nodes.FindIndex(n => n.Name == name);
            if (earlier < 0) _nodes.Add(node);
            else
            {
                _replaced.Add(_nodes[earlier]);
                _nodes[earlier] = node;
            }
        }
        return node;
    }

    /// <summary>
    /// The log writer of a node name, opened on first use: appending, so a node started again keeps
    /// its earlier runs' log, and with shared access, so tests can read it while it is written.
    /// </summary>
    private StreamWriter LogWriter(string name, string logFile)
    {
        lock (_logs)
        {
            if (!_logs.TryGetValue(name, out var log))
            {
                log = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
                _logs[name] = log;
            }
            return log;
        }
    }

    /// <summary>Appends a line of the cluster's own (a restart, say) to a node's log.</summary>
    internal void AppendToLog(string name, string line)
    {
        StreamWriter? log;
        lock (_logs) _logs.TryGetValue(name, out log);
        if (log is not null) WriteLog(log, line);
    }

    private static void WriteLog(StreamWriter log, string line)
    {
        lock (log)
        {
            try { log.WriteLine(line); }
            catch (ObjectDisposedException) { } // output that arrives after the cluster was disposed
        }
    }

    private ConcurrentDictionary<NodeProcess, Task> Ready { get; } = new();

    public Task WaitReadyAsync(IReadOnlyList<NodeProcess> nodes, TimeSpan timeout, CancellationToken ct = default) =>
        NodeLauncher.WaitReadyAsync(nodes.Select(n => (n.Name, Ready[n])).ToList(), timeout, Path.Combine(StoreFolder, "logs"), ct);

    /// <summary>How to start MapReduce.Node: its apphost if present, else the dotnet host with its dll (both next to this assembly).</summary>
    public static (string FileName, string[] Prefix) NodeCommandLine()
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

    private static bool HasExited(NodeProcess node)
    {
        try { return node.Process.HasExited; }
        catch (InvalidOperationException) { return true; }
    }

    /// <summary>A TCP port on 127.0.0.1 that nothing listens on right now.</summary>
    /// <summary>
    /// A port free on 127.0.0.1 now, for a node to bind a moment later. Taken below Linux's
    /// ephemeral range (32768-60999), where the kernel hands out ports to outgoing connections:
    /// a port from bind(0) lies in that range, and any connection opened before the node binds
    /// could take it (seen as "address already in use" on a busy machine).
    /// </summary>
    public static int FreePort()
    {
        for (var i = 0; i < 50; i++)
        {
            var port = Random.Shared.Next(20000, 32000);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        // Supervision first: nothing may be restarted while the cluster stops, and afterwards no
        // restart is under way, so the node lists below are final.
        if (_supervisor is not null) await _supervisor.StopAsync();
        List<NodeProcess> all;
        lock (_nodes) all = [.. _nodes, .. _replaced];
        // All at once: when the whole cluster goes down there is nobody to hand work over to.
        await Task.WhenAll(all.Where(n => !HasExited(n)).Select(n => ProcessSignals.StopAsync(n.Process, _settings.LocalWaits.StopGrace, wholeCluster: _settings.LocalWaits.ClusterStopGrace)));
        foreach (var node in all) node.Process.Dispose();
        lock (_logs)
        {
            foreach (var log in _logs.Values)
            {
                lock (log) log.Dispose();
            }
        }
        _storeLock.Dispose();
    }
}
