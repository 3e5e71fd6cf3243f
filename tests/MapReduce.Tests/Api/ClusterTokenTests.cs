using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using MapReduce.Actors.Api;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.KvStore;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Blobs;
using MapReduce.Tests.Support;
using Microsoft.AspNetCore.Builder;

namespace MapReduce.Tests.Api;

/// <summary>The cluster token on a node's HTTP servers, over real HTTP on 127.0.0.1.</summary>
public sealed class ClusterTokenTests
{
    private const string Token = "s3cret-token_for-the-tests";

    [Fact]
    public async Task The_data_channel_answers_401_without_the_token_or_with_another_and_serves_it()
    {
        using var folder = new TempFolder();
        using var blobs = new LocalBlobStore(folder.Path);
        blobs.Put("a/b", [1, 2, 3]);
        await using var server = await BlobHttpServer.StartAsync(blobs, "127.0.0.1", 0, Token);
        using var http = new HttpClient { BaseAddress = server.BaseUrl };

        using (var missing = await http.GetAsync("blobs/a%2Fb"))
            await AssertRefusedAsync(missing, ClusterTokenCheck.Missing);
        using (var put = await http.PutAsync("blobs/c", new ByteArrayContent([6])))
            await AssertRefusedAsync(put, ClusterTokenCheck.Missing);
        Assert.False(blobs.Exists("c"));
        using (var wrong = await SendAsync(http, HttpMethod.Get, "blobs/a%2Fb", bearer: "guess"))
            await AssertRefusedAsync(wrong, ClusterTokenCheck.Wrong);
        using (var right = await SendAsync(http, HttpMethod.Get, "blobs/a%2Fb", bearer: Token))
            Assert.Equal([1, 2, 3], await right.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync());

        // The data channel is for programs: the status page's cookie and ?token= do not open it.
        using (var cookie = await SendAsync(http, HttpMethod.Get, "blobs/a%2Fb", cookie: (ClusterTokenCheck.CookieName(server.BaseUrl.Port), Token)))
            await AssertRefusedAsync(cookie, ClusterTokenCheck.Missing);
        using (var query = await http.GetAsync($"blobs/a%2Fb?token={Token}"))
            await AssertRefusedAsync(query, ClusterTokenCheck.Missing);

        // BlobClient sends the token it is given, and says what a refusal means.
        var channel = new FixedDataChannel(new KvStoreProtocol.DataEndpoint(server.BaseUrl.ToString(), folder.Path, "not-this-store"));
        Assert.Equal([1, 2, 3], await new BlobClient(channel, _ => { }, shortCircuit: false, token: Token).GetBytesAsync("a/b"));
        var refused = await Assert.ThrowsAsync<KvStoreException>(() => new BlobClient(channel, _ => { }, shortCircuit: false).GetBytesAsync("a/b"));
        Assert.Equal($"the kvstore's data channel at {server.BaseUrl.GetLeftPart(UriPartial.Authority)} refused the request: {ClusterTokenCheck.Missing}", refused.Message);
    }

    /// <summary>Starts a status page server as ControlApiServer sets it up: the check, then the page and the API's routes.</summary>
    private static async Task<(WebApplication App, HttpEndpoint Server, HttpClient Http)> StartPageServerAsync()
    {
        var app = HttpEndpoint.CreateBuilder("127.0.0.1", 0, certificate: null).Build();
        ClusterTokenCheck.Use(app, Token, forPeople: true);
        StatusPage.Map(app);
        app.MapGet("/api/jobs", () => "[]");
        app.MapPost("/api/jobs/{id}/cancel", () => "cancelled");
        var server = await HttpEndpoint.StartAsync(app, "127.0.0.1", https: false, TimeSpan.FromSeconds(2));
        return (app, server, new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = server.BaseUrl });
    }

    /// <summary>
    /// Cookies are not scoped by port: any program on 127.0.0.1 that the browser visits receives
    /// them. So the page's cookie holds a value of this server's own (not the token), and opens
    /// only reads; a request that changes something needs the token itself in its header.
    /// </summary>
    [Fact]
    public async Task The_status_pages_link_sets_a_session_cookie_of_this_server_that_is_not_the_token_and_only_reads()
    {
        var (app, server, http) = await StartPageServerAsync();
        await using var _ = server;
        using var __ = http;
        var cookieName = ClusterTokenCheck.CookieName(server.BaseUrl.Port);

        using (var page = await http.GetAsync("/"))
            await AssertRefusedAsync(page, ClusterTokenCheck.Missing);
        using (var wrongLink = await http.GetAsync("/?token=guess"))
            await AssertRefusedAsync(wrongLink, ClusterTokenCheck.Wrong);

        using var link = await http.GetAsync($"/?token={Token}");
        Assert.Equal(HttpStatusCode.Redirect, link.StatusCode);
        // Out of the address: the token goes on in the fragment, which no server ever receives; the page keeps it for its buttons.
        Assert.Equal($"/#token={Token}", link.Headers.Location!.OriginalString);
        var setCookie = Assert.Single(link.Headers.GetValues("Set-Cookie"));
        var match = System.Text.RegularExpressions.Regex.Match(setCookie, $"^{cookieName}=([A-Za-z0-9_-]{{43}}); path=/; samesite=strict; httponly$");
        Assert.True(match.Success, setCookie);
        var session = match.Groups[1].Value;
        Assert.NotEqual(Token, session);

        using (var page = await SendAsync(http, HttpMethod.Get, "/", cookie: (cookieName, session)))
            Assert.Contains("<script src=\"/page/page.js\">", await page.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
        using (var api = await SendAsync(http, HttpMethod.Get, "/api/jobs", cookie: (cookieName, session)))
            Assert.Equal("[]", await api.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
        using (var cancel = await SendAsync(http, HttpMethod.Post, "/api/jobs/job-1/cancel", cookie: (cookieName, session)))
            await AssertRefusedAsync(cancel, ClusterTokenCheck.CookieOnlyReads);
        using (var cancel = await SendAsync(http, HttpMethod.Post, "/api/jobs/job-1/cancel", bearer: Token, cookie: (cookieName, session)))
            Assert.Equal("cancelled", await cancel.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
        using (var api = await SendAsync(http, HttpMethod.Get, "/api/jobs", bearer: Token))
            Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        using (var api = await http.GetAsync("/api/jobs"))
            await AssertRefusedAsync(api, ClusterTokenCheck.Missing);
        // The token itself in a cookie, as the page once kept it, opens nothing.
        using (var old = await SendAsync(http, HttpMethod.Post, "/api/jobs/job-1/cancel", cookie: ("mapreduce-token", Token)))
            await AssertRefusedAsync(old, ClusterTokenCheck.Missing);

        // Another server (a restarted one, or the other master) has a session of its own.
        var (otherApp, other, otherHttp) = await StartPageServerAsync();
        await using (other)
        using (otherHttp)
        {
            using (var stale = await SendAsync(otherHttp, HttpMethod.Get, "/api/jobs", cookie: (ClusterTokenCheck.CookieName(other.BaseUrl.Port), session)))
                await AssertRefusedAsync(stale, ClusterTokenCheck.StaleSession);
            using var otherLink = await otherHttp.GetAsync($"/?token={Token}");
            Assert.DoesNotContain(session, Assert.Single(otherLink.Headers.GetValues("Set-Cookie")));
            await otherApp.StopAsync();
        }
        await app.StopAsync();
    }

    /// <summary><c>//evil.example/?token=T</c> once answered with a redirect to <c>//evil.example/</c>: off this server.</summary>
    [Fact]
    public async Task The_link_never_redirects_off_the_server()
    {
        var (app, server, http) = await StartPageServerAsync();
        await using var _ = server;
        using var __ = http;
        foreach (var target in new[] { $"//evil.example/?token={Token}", $"/\\evil.example/?token={Token}", $"//evil.example/%2e%2e?token={Token}" })
        {
            var (status, location) = await RawGetAsync(server.BaseUrl, target);
            Assert.True(location is null || location.StartsWith("/#", StringComparison.Ordinal), $"{target}: {status} to {location}");
            Assert.True(status == 401, $"{target}: {status}");
        }
        await app.StopAsync();
    }

    /// <summary>A request line sent as written: HttpClient would read //host as another server.</summary>
    private static async Task<(int Status, string? Location)> RawGetAsync(Uri server, string target)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: {server.Authority}\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream);
        var head = (await reader.ReadToEndAsync()).Split("\r\n\r\n")[0].Split("\r\n");
        var location = head.FirstOrDefault(l => l.StartsWith("Location:", StringComparison.OrdinalIgnoreCase))?["Location:".Length..].Trim();
        return (int.Parse(head[0].Split(' ')[1]), location);
    }

    [Fact]
    public void A_token_comes_from_the_environment_before_the_config_and_blank_means_none()
    {
        Assert.Equal("from-env", ClusterToken.From("from-config", "from-env"));
        Assert.Equal("from-config", ClusterToken.From(" from-config ", ""));
        Assert.Null(ClusterToken.From("", " "));
        var made = ClusterToken.New();
        Assert.Matches("^[A-Za-z0-9_-]{43}$", made); // 256 bits, safe in a URL
        Assert.NotEqual(made, ClusterToken.New());
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string? bearer = null, (string Name, string Value)? cookie = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (cookie is { } c) request.Headers.Add("Cookie", $"{c.Name}={c.Value}");
        return http.SendAsync(request);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string message)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        var error = JsonSerializer.Deserialize<ApiModels.ApiError>(await response.Content.ReadAsStringAsync(), ApiModels.Json)!;
        Assert.Equal(message, error.Error);
    }
}
