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
    public int LocalMasters { get; init; } = 2;

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

    /// <summary>Port of a kvstore node's HTTP data channel; 0 takes any free port (clients learn it over Akka).</summary>
    public int KvStoreDataPort { get; init; }

    /// <summary>Whether a process on the kvstore's machine reads and writes its blob files directly instead of over HTTP (see BlobClient).</summary>
    public bool KvStoreShortCircuit { get; init; } = true;

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
        return new MapReduceSettings(
            section.GetStringList("seed-nodes").ToList(),
            checked((int)(section.GetByteSize("block-size") ?? 8 << 20)),
            section.GetInt("tasks-per-worker", 2),
            section.GetInt("reducers", 4),
            section.GetInt("local.workers", 2))
        {
            LocalMasters = section.GetInt("local.masters", 2),
            Master = MasterSettings.From(section),
            Shuffle = ShuffleSettings.From(section),
            DownDeadPeers = section.GetBoolean("down-dead-peers"),
            DiskFullPause = section.GetTimeSpan("worker.disk-full-pause"),
            KvStoreDiskFullWait = section.GetTimeSpan("kvstore.disk-full-wait"),
            MinFreeScratch = section.GetByteSize("worker.min-free-scratch") ?? throw new ConfigurationException("mapreduce.worker.min-free-scratch must be a size in bytes, e.g. 64MiB"),
            MaxLineSize = section.GetByteSize("max-line-size") ?? throw new ConfigurationException("mapreduce.max-line-size must be a size in bytes, e.g. 256MiB"),
            KvStoreDataPort = section.GetInt("kvstore.data-port", 0),
            KvStoreShortCircuit = section.GetBoolean("kvstore.short-circuit", true),
            BlobStore = BlobStoreSettings.From(section),
            HttpPort = section.GetInt("http.port"),
            ClusterUrls = section.GetStringList("cluster").ToList(),
            KeepCluster = section.GetTimeSpan("local.keep-cluster"),
            LocalSingleProcess = section.GetBoolean("local.single-process"),
            Token = ClusterToken.From(section.GetString("auth.token", "")),
            Tls = TlsSettings.From(section),
            Catalog = NullIfEmpty(section.GetString("catalog")),
            Journal = NullIfEmpty(section.GetString("journal")),
            HealthPort = section.GetBoolean("health.enabled") ? section.GetInt("health.port") : null,
            LogFormat = NodeLogFormats.Parse(section.GetString("log-format", "text")),
        };
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

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
