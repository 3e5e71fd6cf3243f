using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// The life of one of a node's HTTP servers (data channel, control API, health): an empty
/// builder (no configuration files, no middleware but routing), bound as <see cref="KestrelBinding"/>
/// says, started, asked for the port it bound (port 0 takes any), and stopped with a grace.
/// </summary>
public sealed class HttpEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TimeSpan _stopGrace;

    private HttpEndpoint(WebApplication app, Uri baseUrl, TimeSpan stopGrace)
    {
        _app = app;
        BaseUrl = baseUrl;
        _stopGrace = stopGrace;
    }

    /// <summary>Where clients reach the server, e.g. https://10.0.0.2:4080/.</summary>
    public Uri BaseUrl { get; }

    /// <param name="certificate">The node's certificate: HTTPS; null: plain HTTP.</param>
    public static WebApplicationBuilder CreateBuilder(string host, int port, X509Certificate2? certificate, Action<KestrelServerOptions>? tune = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            KestrelBinding.Listen(kestrel, host, port, certificate);
            tune?.Invoke(kestrel);
        });
        return builder;
    }

    /// <summary>Starts <paramref name="app"/> (built from <see cref="CreateBuilder"/>); disposes it when it cannot start.</summary>
    public static async Task<HttpEndpoint> StartAsync(WebApplication app, string host, bool https, TimeSpan stopGrace, CancellationToken ct = default)
    {
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new HttpEndpoint(app, new UriBuilder(https ? Uri.UriSchemeHttps : Uri.UriSchemeHttp, host, new Uri(bound).Port, "/").Uri, stopGrace);
    }

    /// <summary>Stops accepting requests, lets running ones finish for the grace, and releases the port.</summary>
    public async ValueTask DisposeAsync()
    {
        using var grace = new CancellationTokenSource(_stopGrace);
        try { await _app.StopAsync(grace.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        finally { await _app.DisposeAsync().ConfigureAwait(false); }
    }
}
