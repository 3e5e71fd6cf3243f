using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using MapReduce.Actors.Metrics;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// GET /healthz (liveness) and GET /readyz (readiness) on a port of their own (mapreduce.health),
/// on every role: workers serve no other HTTP, and probes must not depend on a role's server.
/// Also GET /metrics, which asks for the cluster token (<see cref="MetricsEndpoint"/>).
/// 200 with "ok: …", or 503 with what is missing (<see cref="NodeHealth"/>).
/// </summary>
public sealed class HealthServer : IAsyncDisposable
{
    private readonly HttpEndpoint _endpoint;

    private HealthServer(HttpEndpoint endpoint) => _endpoint = endpoint;

    /// <summary>Plain HTTP even on a TLS cluster: probes (Kubernetes' among them) need no certificate, and the answers say only whether the node is up (the token Prometheus sends for /metrics travels in clear, see docs/operations.md).</summary>
    public Uri BaseUrl => _endpoint.BaseUrl;

    /// <param name="token">The cluster token, asked of GET /metrics only; null: none is asked.</param>
    public static async Task<HealthServer> StartAsync(ActorSystem system, IReadOnlyList<string> roles, string host, int port, string? token)
    {
        var app = HttpEndpoint.CreateBuilder(host, port, certificate: null).Build();
        var cluster = Akka.Cluster.Cluster.Get(system);
        app.MapGet("/healthz", context => ReplyAsync(context, NodeHealth.Live(cluster)));
        app.MapGet("/readyz", context => ReplyAsync(context, NodeHealth.Ready(cluster, roles)));
        MetricsEndpoint.MapWithToken(app, token);
        // Probes running at shutdown get 2 s: they answer at once (not a setting).
        return new HealthServer(await HttpEndpoint.StartAsync(app, host, https: false, TimeSpan.FromSeconds(2)).ConfigureAwait(false));
    }

    private static Task ReplyAsync(HttpContext context, NodeHealth.Answer answer)
    {
        context.Response.StatusCode = answer.Ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(answer.Text + "\n");
    }

    public ValueTask DisposeAsync() => _endpoint.DisposeAsync();
}
