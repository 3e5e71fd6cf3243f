using System.Net;
using Akka.Actor;
using MapReduce.Actors.KvStore;
using MapReduce.Actors.Hosting;
using MapReduce.Storage.Catalog;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MapReduce.Actors.Api;

/// <summary>
/// The control API and status page on a master node (docs/api.md): Kestrel with plain request
/// delegates (no MVC, no reflection-built endpoints, so it is ready as soon as the node is). The
/// CLI and the page use nothing else, so a client never joins the cluster.
/// </summary>
public sealed class ControlApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ControlApiServer(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>Where clients reach this server, e.g. http://127.0.0.1:4080/.</summary>
    public Uri BaseUrl { get; }

    /// <summary>This process's server once started (a process is one node), for its ready line.</summary>
    public static ControlApiServer? Current { get; private set; }

    public static async Task<ControlApiServer> StartAsync(ActorSystem system, IActorRef master, CatalogStore catalog, string host, int port, MapReduceSettings settings)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            KestrelBinding.Listen(kestrel, host, port);
        });
        var app = builder.Build();
        ClusterTokenCheck.Use(app, settings.Token, forPeople: true);
        var locator = new KvStoreLocator(system);
        var blobs = BlobBackends.ClientFor(settings.BlobStore, locator, message => Akka.Event.LoggingExtensions.Info(system.Log, message), settings.KvStoreShortCircuit, settings.Token);
        new ControlApiRoutes(system, master, catalog, locator, blobs).Map(app);
        StatusPage.Map(app);
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return Current = new ControlApiServer(app, new UriBuilder(Uri.UriSchemeHttp, host, new Uri(bound).Port, "/").Uri);
    }

    public async ValueTask DisposeAsync()
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await _app.StopAsync(grace.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
