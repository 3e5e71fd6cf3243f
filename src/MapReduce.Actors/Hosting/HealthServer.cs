using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// GET /healthz (liveness) and GET /readyz (readiness) on a port of their own (mapreduce.health),
/// on every role: workers serve no other HTTP, and probes must not depend on a role's server.
/// 200 with "ok: …", or 503 with what is missing (<see cref="NodeHealth"/>).
/// </summary>
public sealed class HealthServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HealthServer(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>This process's server once started (a process is one node), for its start-up lines.</summary>
    public static HealthServer? Current { get; internal set; }

    public static async Task<HealthServer> StartAsync(ActorSystem system, IReadOnlyList<string> roles, string host, int port)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => KestrelBinding.Listen(kestrel, host, port));
        var app = builder.Build();
        var cluster = Akka.Cluster.Cluster.Get(system);
        app.MapGet("/healthz", context => ReplyAsync(context, NodeHealth.Live(cluster)));
        app.MapGet("/readyz", context => ReplyAsync(context, NodeHealth.Ready(cluster, roles)));
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
        return new HealthServer(app, new UriBuilder(Uri.UriSchemeHttp, host, new Uri(bound).Port, "/").Uri);
    }

    private static Task ReplyAsync(HttpContext context, NodeHealth.Answer answer)
    {
        context.Response.StatusCode = answer.Ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(answer.Text + "\n");
    }

    public async ValueTask DisposeAsync()
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await _app.StopAsync(grace.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
