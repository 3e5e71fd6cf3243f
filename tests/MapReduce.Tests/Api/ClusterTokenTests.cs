using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using MapReduce.Actors.Api;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.KvStore;
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
        using (var cookie = await SendAsync(http, HttpMethod.Get, "blobs/a%2Fb", cookie: Token))
            await AssertRefusedAsync(cookie, ClusterTokenCheck.Wrong);
        using (var query = await http.GetAsync($"blobs/a%2Fb?token={Token}"))
            await AssertRefusedAsync(query, ClusterTokenCheck.Missing);

        // BlobClient sends the token it is given, and says what a refusal means.
        var channel = new FixedDataChannel(new KvStoreProtocol.DataEndpoint(server.BaseUrl.ToString(), folder.Path, "not-this-store"));
        Assert.Equal([1, 2, 3], await new BlobClient(channel, _ => { }, shortCircuit: false, token: Token).GetBytesAsync("a/b"));
        var refused = await Assert.ThrowsAsync<KvStoreException>(() => new BlobClient(channel, _ => { }, shortCircuit: false).GetBytesAsync("a/b"));
        Assert.Equal($"the kvstore's data channel at {server.BaseUrl.GetLeftPart(UriPartial.Authority)} refused the request: {ClusterTokenCheck.Missing}", refused.Message);
    }

    [Fact]
    public async Task The_status_page_takes_the_token_once_from_its_link_into_an_HttpOnly_cookie()
    {
        var app = HttpEndpoint.CreateBuilder("127.0.0.1", 0, certificate: null).Build();
        // As ControlApiServer sets it up: the check, then the page and the API's routes.
        ClusterTokenCheck.Use(app, Token, forPeople: true);
        StatusPage.Map(app);
        app.MapGet("/api/jobs", () => "[]");
        await using var server = await HttpEndpoint.StartAsync(app, "127.0.0.1", https: false, TimeSpan.FromSeconds(2));
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = server.BaseUrl };

        using (var page = await http.GetAsync("/"))
            await AssertRefusedAsync(page, ClusterTokenCheck.Missing);
        using (var wrongLink = await http.GetAsync("/?token=guess"))
            await AssertRefusedAsync(wrongLink, ClusterTokenCheck.Wrong);

        using var link = await http.GetAsync($"/?token={Token}");
        Assert.Equal(HttpStatusCode.Redirect, link.StatusCode);
        Assert.Equal("/", link.Headers.Location!.OriginalString); // the token leaves the address bar
        var setCookie = Assert.Single(link.Headers.GetValues("Set-Cookie"));
        Assert.Equal($"{ClusterTokenCheck.CookieName}={Token}; path=/; samesite=strict; httponly", setCookie);

        using (var page = await SendAsync(http, HttpMethod.Get, "/", cookie: Token))
            Assert.Contains("<script src=\"/page/page.js\">", await page.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
        using (var api = await SendAsync(http, HttpMethod.Get, "/api/jobs", cookie: Token))
            Assert.Equal("[]", await api.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
        using (var api = await SendAsync(http, HttpMethod.Get, "/api/jobs", bearer: Token))
            Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        using (var api = await http.GetAsync("/api/jobs"))
            await AssertRefusedAsync(api, ClusterTokenCheck.Missing);
        await app.StopAsync();
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

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string? bearer = null, string? cookie = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (cookie is not null) request.Headers.Add("Cookie", $"{ClusterTokenCheck.CookieName}={cookie}");
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
