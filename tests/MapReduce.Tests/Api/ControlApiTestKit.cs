using Akka.Cluster;
using Akka.Configuration;
using Akka.TestKit;
using MapReduce.Actors.Api;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.KvStore;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Catalog;
using MapReduce.Tests.Support;
using Microsoft.AspNetCore.Builder;

namespace MapReduce.Tests.Api;

/// <summary>
/// The control API over real HTTP on 127.0.0.1, on a one-node cluster that holds a real kvstore
/// actor on a real blob folder and SQLite catalog, with a probe as the master: what the API tests
/// share. A test class starts the server with the blob client its routes read through.
/// </summary>
public abstract class ControlApiTestKit : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private WebApplication? _app;
    private HttpEndpoint? _server;

    protected ControlApiTestKit() : base(ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.cluster.roles = [kvstore]
        akka.cluster.log-info = off
        """))
    {
        Store = new LocalBlobStore(Folder.File("kvstore"));
        Catalog = new CatalogStore(SqlLocation.SqliteFile(Folder.File("catalog.db")));
        Catalog.EnsureCreated();
        Master = CreateTestProbe();
    }

    protected TempFolder Folder { get; } = new();
    protected LocalBlobStore Store { get; }
    protected CatalogStore Catalog { get; }
    protected TestProbe Master { get; }
    protected HttpClient Http { get; private set; } = null!;

    public abstract Task InitializeAsync();

    /// <summary>How long the routes wait for the master (null: hocon/mapreduce.hocon's).</summary>
    protected virtual ControlApiSettings? Waits => null;

    /// <summary>Starts the kvstore actor, joins the cluster, and serves the control API reading blobs through <paramref name="blobs"/>.</summary>
    protected async Task StartAsync(IBlobClient blobs)
    {
        Sys.ActorOf(KvStoreActor.Props(Store, Catalog, "http://127.0.0.1:9/"), "kvstore");
        var cluster = Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        await AwaitConditionAsync(() => Task.FromResult(cluster.SelfMember.Status == MemberStatus.Up), TimeSpan.FromSeconds(20));
        _app = HttpEndpoint.CreateBuilder("127.0.0.1", 0, certificate: null).Build();
        new ControlApiRoutes(Sys, Master.Ref, Catalog, new KvStoreLocator(Sys), blobs, kvstoreTimeout: TimeSpan.FromSeconds(5), waits: Waits).Map(_app);
        _server = await HttpEndpoint.StartAsync(_app, "127.0.0.1", https: false, TimeSpan.FromSeconds(2));
        Http = new HttpClient { BaseAddress = _server.BaseUrl };
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
        Store.Dispose();
        Folder.Dispose();
    }
}
