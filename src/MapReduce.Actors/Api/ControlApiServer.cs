using Akka.Actor;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Metrics;
using MapReduce.Storage.Catalog;

namespace MapReduce.Actors.Api;

/// <summary>
/// The control API and status page on a master node (docs/api.md): Kestrel with plain request
/// delegates (no MVC, no reflection-built endpoints, so it is ready as soon as the node is). The
/// CLI and the page use nothing else, so a client never joins the cluster.
/// </summary>
public sealed class ControlApiServer : IAsyncDisposable
{
    private readonly HttpEndpoint _endpoint;

    private ControlApiServer(HttpEndpoint endpoint) => _endpoint = endpoint;

    /// <summary>Where clients reach this server, e.g. https://10.0.0.2:4080/.</summary>
    public Uri BaseUrl => _endpoint.BaseUrl;

    public static async Task<ControlApiServer> StartAsync(ActorSystem system, IActorRef master, CatalogStore catalog, string host, int port, MapReduceSettings settings, ClusterTls? tls)
    {
        var app = HttpEndpoint.CreateBuilder(host, port, tls?.Certificate).Build();
        ClusterTokenCheck.Use(app, settings.Token, forPeople: true);
        var locator = new KvStoreLocator(system);
        var blobs = BlobBackends.ClientFor(settings.BlobStore, locator, message => Akka.Event.LoggingExtensions.Info(system.Log, message), settings.KvStoreShortCircuit, settings.Token,
            new ServerCertificateCheck(tls?.Trust), settings.KvStoreClient);
        new ControlApiRoutes(system, master, catalog, locator, blobs, settings.Master.KvStoreTimeout, settings.Master.LongPoll, waits: settings.ControlApi).Map(app);
        StatusPage.Map(app);
        MetricsEndpoint.Map(app);
        // Requests running at shutdown get 2 s; the CLI asks another master (not a setting).
        return new ControlApiServer(await HttpEndpoint.StartAsync(app, host, tls is not null, TimeSpan.FromSeconds(2)).ConfigureAwait(false));
    }

    public ValueTask DisposeAsync() => _endpoint.DisposeAsync();
}
