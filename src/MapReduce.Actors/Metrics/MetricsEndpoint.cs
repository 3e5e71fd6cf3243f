using MapReduce.Actors.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace MapReduce.Actors.Metrics;

/// <summary>
/// GET /metrics: the process's metrics (<see cref="NodeMetrics"/>) in Prometheus' text format, on a
/// master's control API and on every node's health port. Either asks for the cluster token
/// (Prometheus sends it with <c>authorization: { credentials: TOKEN }</c>), as every other request does.
/// </summary>
public static class MetricsEndpoint
{
    public const string Path = "/metrics";

    /// <summary>Serves /metrics on a server whose every request is checked for the token already (the control API).</summary>
    public static void Map(IEndpointRouteBuilder app) => app.MapGet(Path, ServeAsync);

    /// <summary>
    /// Serves /metrics on the health port, whose probes stay open (a supervisor sends no token):
    /// the token is asked of /metrics alone.
    /// </summary>
    public static void MapWithToken(WebApplication app, string? token)
    {
        app.UseWhen(context => context.Request.Path == Path, branch => ClusterTokenCheck.Use(branch, token, forPeople: false));
        Map(app);
    }

    private static async Task ServeAsync(HttpContext context)
    {
        context.Response.ContentType = PrometheusConstants.TextContentTypeWithVersionAndEncoding;
        await NodeMetrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }
}
