using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using Akka.Streams;
using MapReduce.Actors.Api;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.KvStore;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.StoreCheck;
using MapReduce.Actors.UserCode;
using MapReduce.Actors.Worker;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Catalog;
using MapReduce.Storage.Identity;
using Microsoft.Data.Sqlite;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// The one place a process's actor system is put together (Akka.Hosting): HOCON from hocon/,
/// remoting and clustering from flags, then per role the kvstore (actor and HTTP data channel), the job master singleton
/// with its SQL journal, or a worker. Node and Submit both call it.
/// </summary>
public static class AkkaSetup
{
    public const string SystemName = "mapreduce";
    public const string MasterSingletonName = "job-master";

    /// <param name="refuse">Called once, with the reason, when the cluster's masters use another journal or its kvstore another catalog (see <see cref="StoreCheckActor"/>).</param>
    /// <param name="servers">Filled in with the URLs of the HTTP servers once they listen.</param>
    public static void Configure(AkkaConfigurationBuilder akka, ClusterNodeOptions node, Config config, MapReduceSettings settings, Action<string> refuse, NodeServers servers)
    {
        var tls = node.Tls;
        var remoting = new RemoteOptions { HostName = node.Host, Port = node.Port };
        if (tls is not null)
        {
            // Mutual authentication: each side checks the other's certificate against the cluster's CA.
            remoting.EnableSsl = true;
            remoting.Ssl = new SslOptions
            {
                X509Certificate = tls.Certificate,
                RequireMutualAuthentication = true,
                ValidateCertificateHostname = false,
                CustomValidator = tls.Trust.ForRemoting(),
            };
        }
        akka.AddHocon(config, HoconAddMode.Append)
            .AddHocon(ActorMaterializer.DefaultConfig(), HoconAddMode.Append)
            .WithRemoting(remoting)
            .WithClustering(new ClusterOptions { Roles = [.. node.Roles], SeedNodes = [.. node.Seeds.Select(seed => SeedAddress.For(seed, tls is not null))] });
        if (settings.LogFormat == NodeLogFormat.Json) akka.AddHocon(JsonLogger.Hocon, HoconAddMode.Prepend);
        var serverCheck = new ServerCertificateCheck(tls?.Trust);

        if (settings.DownDeadPeers) akka.WithActors((system, _) => system.ActorOf(DeadPeerProbe.Props(), "dead-peer-probe"));
        if (NetworkExposure.Warning(node.Host, settings.Token is not null, tls is not null) is { } exposed)
            akka.WithActors((system, _) => system.Log.Warning("{0}", exposed));
        if (node.HealthPort is { } healthPort)
        {
            akka.WithActors((system, _) =>
            {
                var health = HealthServer.StartAsync(system, node.Roles, node.Host, healthPort, settings.Token).GetAwaiter().GetResult();
                servers.Health = health.BaseUrl;
                CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "stop-health-server", async () =>
                {
                    await health.DisposeAsync();
                    return Akka.Done.Instance;
                });
            });
        }

        // The proxy otherwise warns on every start, before the master has even joined.
        var singletonOptions = new ClusterSingletonOptions { Role = NodeRoles.Master, LogSingletonIdentificationFailure = false };
        CatalogStore? catalog = null;
        if (node.Has(NodeRoles.Master) || node.Has(NodeRoles.KvStore))
        {
            catalog = new CatalogStore(node.Catalog);
            catalog.EnsureCreated();
        }

        StoreIdentity? journalId = null;
        if (node.Has(NodeRoles.Master))
        {
            PrepareJournal(node.Journal);
            journalId = StoreIdentityTable.ReadOrCreate(node.Journal, node.Journal.Describe(node.Host));
            akka.WithSqlPersistence(node.Journal.ConnectionString, node.Journal.Linq2DbProvider, autoInitialize: true);
            akka.WithActors((system, _) => system.ActorOf(JournalWarmup.Props(Akka.Cluster.Cluster.Get(system).SelfAddress.Port?.ToString() ?? "0"), "journal-warmup"));
            akka.WithSingleton<JobMasterKey>(MasterSingletonName,
                (system, _, _) => Akka.Pattern.BackoffSupervisor.Props(Akka.Pattern.Backoff.OnStop(
                    JobMaster.Props(catalog!, settings.Master, FindKvStore(system), kvstoreWatch: KvStoreWatch(settings)), "master", settings.Master.RestartBackoff.First, settings.Master.RestartBackoff.Max, 0.2, -1)),
                singletonOptions, createProxyToo: true);
            akka.WithActors((system, registry) =>
            {
                // The control API and status page: clients talk to any master node, never join the cluster.
                var api = ControlApiServer.StartAsync(system, registry.Get<JobMasterKey>(), catalog!, node.Host, node.HttpPort, settings, tls).GetAwaiter().GetResult();
                servers.ControlApi = api.BaseUrl;
                CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "stop-control-api", async () =>
                {
                    await api.DisposeAsync();
                    return Akka.Done.Instance;
                });
            });
        }
        else
        {
            akka.WithSingletonProxy<JobMasterKey>(MasterSingletonName, singletonOptions);
        }

        if (catalog is not null)
        {
            var mine = new StoreCheckProtocol.NodeStores([.. node.Roles], journalId, StoreIdentityTable.ReadOrCreate(node.Catalog, node.Catalog.Describe(node.Host)));
            akka.WithActors((system, _) => system.ActorOf(StoreCheckActor.Props(mine, refuse), StoreCheckActor.Name));
        }

        if (node.Has(NodeRoles.KvStore))
        {
            var blobs = BlobBackends.ForKvStore(settings.BlobStore, Path.Combine(node.DataFolder, "kvstore"));
            akka.WithActors((system, _) =>
            {
                // The data channel comes up first: the actor hands out its URL. It stops with the node.
                var server = BlobHttpServer.StartAsync(blobs, node.Host, settings.KvStoreDataPort, settings.Token, tls?.Certificate).GetAwaiter().GetResult();
                CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "stop-blob-http-server", async () =>
                {
                    await server.DisposeAsync();
                    return Akka.Done.Instance;
                });
                system.ActorOf(KvStoreActor.Props(blobs, catalog!, server.BaseUrl.ToString(), settings.TempSweep), "kvstore");
            });
        }

        if (node.Has(NodeRoles.Worker))
        {
            var scratch = Path.Combine(node.DataFolder, "scratch", Environment.ProcessId.ToString());
            Directory.CreateDirectory(scratch);
            // In the background: the node is ready at once, and the first job finds Roslyn warm. Not
            // when compiled scripts are cached here: a re-run compiles nothing, and the warm-up's
            // seconds of CPU would only slow the start of the other nodes on the same cores.
            var codeCache = Path.Combine(node.DataFolder, "code-cache");
            if (!Directory.Exists(codeCache) || !Directory.EnumerateFiles(codeCache, "*.dll").Any()) _ = Task.Run(ScriptCompiler.WarmUp);
            // Before the actor system exists, so it runs before Akka's exit hook leaves the cluster.
            ProcessExitWatch.Install();
            akka.WithActors((system, registry) =>
            {
                var locator = new KvStoreLocator(system);
                Action<string> info = message => system.Log.Info("{0}", message);
                // An attempt waits for a kvstore that is away (restarting) instead of failing on it.
                var blobs = new WaitingBlobClient(BlobBackends.ClientFor(settings.BlobStore, locator, info, settings.KvStoreShortCircuit, settings.Token, serverCheck, settings.KvStoreClient),
                    () => !locator.IsUp, info, settings.KvStoreClient, diskFullWait: settings.KvStoreDiskFullWait);
                var master = registry.Get<JobMasterKey>();
                // A TotalOrder job's key ranges are sampled from chunks the master names.
                var keyRanges = new KeyRangeSampler(blobs, async (job, max, ct) =>
                    (await master.Ask<MasterProtocol.KeySampleChunks>(new MasterProtocol.KeySampleRequest(job.Value, max), timeout: null, ct)).Chunks) { Timeout = settings.WorkerWaits.KeySampleTimeout };
                var executor = new TaskExecutor(blobs, new CompiledCodeCache(codeCache, message => system.Log.Info("{0}", message), unloadAfter: settings.WorkerWaits.CodeUnloadAfter) { DebugScriptPath = node.DebugScriptPath }, scratch, settings.Shuffle, node.TasksPerWorker,
                    message => system.Log.Info("{0}", message), keyRanges) { TextSliceBytes = settings.BlockSize, LogWriteTimeout = settings.WorkerWaits.LogWriteTimeout };
                system.ActorOf(WorkerActor.Props(master, node.TasksPerWorker, settings.CancelGrace, settings.Master.AnnounceInterval, executor,
                    new ScratchSpace(scratch, settings.MinFreeScratch, settings.DiskFullPause)), "worker");
            });
        }
    }

    /// <summary>Tasks read and write blobs through the kvstore unless they live in an object store: only then do jobs wait while it is away.</summary>
    private static Props? KvStoreWatch(MapReduceSettings settings) =>
        settings.BlobStore.Kind == BlobStoreKind.Local ? RoleWatch.Props(NodeRoles.KvStore) : null;

    private static Func<TimeSpan, Task<IActorRef>> FindKvStore(ActorSystem system)
    {
        var locator = new KvStoreLocator(system);
        return timeout => locator.ResolveAsync(timeout);
    }

    /// <summary>Creates the SQLite journal file in WAL mode, so a reader never blocks the writer.</summary>
    private static void PrepareJournal(SqlLocation journal)
    {
        if (journal.SqliteFilePath is not { } file) return;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        using var connection = new SqliteConnection(journal.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }
}
