using Akka.Configuration;
using MapReduce.Actors.Master;

namespace MapReduce.Actors.Hosting;

/// <summary>The "mapreduce" section of the HOCON configuration, with flags applied on top.</summary>
public sealed record MapReduceSettings(
    IReadOnlyList<string> SeedNodes,
    int BlockSize,
    int TasksPerWorker,
    int Reducers,
    int LocalWorkers)
{
    /// <summary>Master nodes local mode starts; two, so the singleton can fail over.</summary>
    public required int LocalMasters { get; init; }

    /// <summary>The master's timings and limits (task-timeout, worker-timeout, scheduling, snapshots, ...).</summary>
    public required MasterSettings Master { get; init; }

    /// <summary>How long a worker waits for a stopped attempt's user code to return before it exits to free the slot (read once, with the master's settings, whose janitor waits as long).</summary>
    public TimeSpan CancelGrace => Master.CancelGrace;

    /// <summary>How map output is buffered and merged: the map buffer's bytes, the whole-partition Reducer's limit.</summary>
    public required ShuffleSettings Shuffle { get; init; }

    /// <summary>The longest line (bytes of UTF-8 text, without its line end) an upload accepts: a line is mapped whole, in memory.</summary>
    public required long MaxLineSize { get; init; }

    /// <summary>Whether a member whose host refuses connections to its port is downed at once (<see cref="DeadPeerProbe"/>) rather than after the failure detector.</summary>
    public required bool DownDeadPeers { get; init; }

    /// <summary>How long a worker offers no slot after an attempt failed on its full scratch disk (mapreduce.worker.disk-full-pause).</summary>
    public TimeSpan DiskFullPause { get; init; }

    /// <summary>How long a worker's write waits for the kvstore's full disk to have space (mapreduce.kvstore.disk-full-wait).</summary>
    public TimeSpan KvStoreDiskFullWait { get; init; }

    /// <summary>Free bytes a worker's scratch file system needs for the worker to offer slots (mapreduce.worker.min-free-scratch).</summary>
    public long MinFreeScratch { get; init; }

    /// <summary>How this node's blob clients wait for the kvstore: lookups, stalled transfers, retries (mapreduce.kvstore.*).</summary>
    public required KvStoreClientSettings KvStoreClient { get; init; }

    /// <summary>When local mode starts a master or worker process that exited again (mapreduce.local.restart-backoff).</summary>
    public required NodeRestartSettings LocalRestart { get; init; }

    /// <summary>The CLI's waits for the control API (mapreduce.client).</summary>
    public required ClientSettings Client { get; init; }

    /// <summary>How long the control API waits for the master before it answers 503 (mapreduce.http.master-timeout, slow-command-timeout).</summary>
    public required ControlApiSettings ControlApi { get; init; }

    /// <summary>How long local mode waits for its nodes to start and stop, and keeps a cluster for a detached job (mapreduce.local.*).</summary>
    public required LocalWaitSettings LocalWaits { get; init; }

    /// <summary>How the kvstore deletes temp files of writers that died (mapreduce.kvstore.sweep-every, abandoned-after).</summary>
    public required TempSweepSettings TempSweep { get; init; }

    /// <summary>A worker's own waits: unloading unused code, storing a task's log, sampling keys (mapreduce.worker.*).</summary>
    public required WorkerWaitSettings WorkerWaits { get; init; }

    /// <summary>Port of a kvstore node's HTTP data channel; 0 takes any free port (clients learn it over Akka).</summary>
    public int KvStoreDataPort { get; init; }

    /// <summary>Whether a process on the kvstore's machine reads and writes its blob files directly instead of over HTTP (see BlobClient).</summary>
    public required bool KvStoreShortCircuit { get; init; }

    /// <summary>Where blobs live: the kvstore's folder, or an S3-compatible object store every node reaches itself.</summary>
    public required BlobStoreSettings BlobStore { get; init; }

    /// <summary>Port of a master node's control API and status page (docs/api.md).</summary>
    public required int HttpPort { get; init; }

    /// <summary>Where the CLI finds the control API when given no --cluster and no local cluster runs on its store.</summary>
    public required IReadOnlyList<string> ClusterUrls { get; init; }

    /// <summary>Whether a local cluster is one process carrying every role (unless a worker count is given).</summary>
    public required bool LocalSingleProcess { get; init; }

    /// <summary>The cluster token HTTP requests must carry (MAPREDUCE_TOKEN, else mapreduce.auth.token); null: none is asked.</summary>
    public string? Token { get; init; }

    /// <summary>The node's certificate and the cluster's CA (mapreduce.tls); <see cref="TlsSettings.None"/>: plain TCP and HTTP.</summary>
    public TlsSettings Tls { get; init; } = TlsSettings.None;

    /// <summary>How long a local cluster the CLI started stays up once idle (0: it stops with the CLI).</summary>
    public required TimeSpan KeepCluster { get; init; }

    /// <summary>The catalog database from mapreduce.catalog (a SQLite path or postgres:...); null: DATA-DIR/catalog.db.</summary>
    public string? Catalog { get; init; }

    /// <summary>The master journal database from mapreduce.journal; null: DATA-DIR/journal.db.</summary>
    public string? Journal { get; init; }

    /// <summary>Port of the node's GET /healthz and /readyz (0: any free port); null: not served.</summary>
    public int? HealthPort { get; init; }

    /// <summary>What a node writes on stdout (mapreduce.log-format).</summary>
    public NodeLogFormat LogFormat { get; init; }

    public static MapReduceSettings From(Config config)
    {
        var section = config.GetConfig("mapreduce");
        var master = MasterSettings.From(section);
        var kvstoreClient = KvStoreClientSettings.From(section, master.KvStoreBackoff);
        if (AwayGraceProblem(kvstoreClient.AwayGrace, config) is { } problem) throw new ConfigurationException(problem);
        var settings = new MapReduceSettings(
            section.GetStringList("seed-nodes").ToList(),
            checked((int)(section.GetByteSize("block-size") ?? throw Missing("block-size"))),
            section.GetInt("tasks-per-worker"),
            section.GetInt("reducers"),
            section.GetInt("local.workers"))
        {
            LocalMasters = section.GetInt("local.masters"),
            Master = master,
            KvStoreClient = kvstoreClient,
            LocalRestart = NodeRestartSettings.From(section),
            Shuffle = ShuffleSettings.From(section),
            DownDeadPeers = section.GetBoolean("down-dead-peers"),
            DiskFullPause = section.GetTimeSpan("worker.disk-full-pause"),
            KvStoreDiskFullWait = section.GetTimeSpan("kvstore.disk-full-wait"),
            MinFreeScratch = section.GetByteSize("worker.min-free-scratch") ?? throw Missing("worker.min-free-scratch"),
            MaxLineSize = section.GetByteSize("max-line-size") ?? throw Missing("max-line-size"),
            KvStoreDataPort = section.GetInt("kvstore.data-port"),
            KvStoreShortCircuit = section.GetBoolean("kvstore.short-circuit"),
            BlobStore = BlobStoreSettings.From(section),
            HttpPort = section.GetInt("http.port"),
            ClusterUrls = section.GetStringList("cluster").ToList(),
            KeepCluster = section.GetTimeSpan("local.keep-cluster"),
            LocalSingleProcess = section.GetBoolean("local.single-process"),
            Token = ClusterToken.From(section.GetString("auth.token")),
            Tls = TlsSettings.From(section),
            Catalog = NullIfEmpty(section.GetString("catalog")),
            Journal = NullIfEmpty(section.GetString("journal")),
            HealthPort = section.GetBoolean("health.enabled") ? section.GetInt("health.port") : null,
            LogFormat = NodeLogFormats.Parse(section.GetString("log-format")),
            Client = ClientSettings.From(section),
            ControlApi = ControlApiSettings.From(section),
            LocalWaits = LocalWaitSettings.From(section),
            TempSweep = TempSweepSettings.From(section),
            WorkerWaits = WorkerWaitSettings.From(section),
        };
        return DependentTimings.Problem(settings) is { } contradiction ? throw new ConfigurationException(contradiction) : settings;
    }

    private const string HeartbeatPause = "akka.cluster.failure-detector.acceptable-heartbeat-pause";

    /// <summary>
    /// Why mapreduce.kvstore.away-grace is too short for the failure detector, or null: a kvstore
    /// that has just died looks Up until the detector has missed its heartbeats this long, so a
    /// shorter grace ends while it still looks Up and the worker's request fails instead of waiting.
    /// </summary>
    private static string? AwayGraceProblem(TimeSpan awayGrace, Config config)
    {
        if (!config.HasPath(HeartbeatPause)) return null;
        var pause = config.GetTimeSpan(HeartbeatPause);
        return awayGrace >= pause ? null
            : $"mapreduce.kvstore.away-grace ({Durations.Format(awayGrace)}) must be at least {HeartbeatPause} ({Durations.Format(pause)}): " +
              "a kvstore that has just died would still look up when workers stop waiting for it";
    }

    private static ConfigurationException Missing(string key) => new($"mapreduce.{key} must be a size in bytes, e.g. 64MiB (hocon/mapreduce.hocon sets it)");

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static readonly Lazy<MapReduceSettings> LazyDefaults = new(() => From(LoadConfig()));

    /// <summary>
    /// hocon/mapreduce.hocon as it is, for a part built without settings (a unit test, a client of
    /// a fixed data channel): the defaults are read from the file, never written again in code.
    /// </summary>
    public static MapReduceSettings Defaults => LazyDefaults.Value;

    public static Config LoadConfig(string? extraFile = null)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "hocon", "mapreduce.hocon");
        if (!File.Exists(path)) throw new FileNotFoundException($"cluster configuration not found at {path}");
        var config = ConfigurationFactory.ParseString(File.ReadAllText(path));
        if (extraFile is not null)
        {
            if (!File.Exists(extraFile)) throw new FileNotFoundException($"configuration file '{extraFile}' does not exist");
            config = ConfigurationFactory.ParseString(File.ReadAllText(extraFile)).WithFallback(config);
        }
        return config;
    }
}
