using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.KvStore;
using MapReduce.Actors.Metrics;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Blobs;
using MapReduce.Tests.Deploy;
using MapReduce.Tests.Support;
using Microsoft.AspNetCore.Builder;
using static MapReduce.Tests.Metrics.MetricsScrape;

namespace MapReduce.Tests.Metrics;

/// <summary>/metrics over real HTTP on 127.0.0.1: the token, the format, every family the docs list, and the kvstore's requests timed.</summary>
[Collection(ProcessMetrics.Name)]
public sealed class MetricsEndpointTests
{
    private const string Token = "s3cret-token_for-the-metrics";

    [Fact]
    public async Task The_health_ports_metrics_ask_for_the_token_while_its_probes_stay_open()
    {
        // As HealthServer sets it up: open probes, then /metrics behind the token.
        var app = HttpEndpoint.CreateBuilder("127.0.0.1", 0, certificate: null).Build();
        app.MapGet("/healthz", () => "ok: up\n");
        MetricsEndpoint.MapWithToken(app, Token);
        await using var server = await HttpEndpoint.StartAsync(app, "127.0.0.1", https: false, TimeSpan.FromSeconds(2));
        using var http = new HttpClient { BaseAddress = server.BaseUrl };

        using (var probe = await http.GetAsync("healthz"))
            Assert.Equal("ok: up\n", await probe.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
        using (var missing = await http.GetAsync("metrics"))
            await AssertRefusedAsync(missing, ClusterTokenCheck.Missing);
        using (var wrong = await GetAsync(http, "metrics", "guess"))
            await AssertRefusedAsync(wrong, ClusterTokenCheck.Wrong);

        using var scraped = await GetAsync(http, "metrics", Token);
        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", scraped.Content.Headers.ContentType!.ToString());
        var text = await scraped.Content.ReadAsStringAsync();
        // Exactly the families docs/operations.md lists, typed as it says.
        var documented = Regex.Matches(File.ReadAllText(RepoFiles.Path("docs", "operations.md")), @"^\| `(mapreduce_\w+)` \| (\w+) \|", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var served = Regex.Matches(text, @"^# TYPE (mapreduce_\w+) (\w+)$", RegexOptions.Multiline).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.Equal(documented.OrderBy(kv => kv.Key, StringComparer.Ordinal), served.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Contains("# TYPE process_cpu_seconds_total counter\n", text);
    }

    [Fact]
    public async Task Without_a_token_configured_the_metrics_are_open_as_every_request_is()
    {
        var app = HttpEndpoint.CreateBuilder("127.0.0.1", 0, certificate: null).Build();
        MetricsEndpoint.MapWithToken(app, token: null);
        await using var server = await HttpEndpoint.StartAsync(app, "127.0.0.1", https: false, TimeSpan.FromSeconds(2));
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        using var scraped = await http.GetAsync("metrics");
        Assert.Contains("# TYPE mapreduce_jobs_submitted_total counter\n", await scraped.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_kvstore_data_channel_times_each_request_by_method_and_status_refused_ones_too()
    {
        using var folder = new TempFolder();
        using var blobs = new LocalBlobStore(folder.Path);
        blobs.Put("a/b", [1, 2, 3]);
        await using var server = await BlobHttpServer.StartAsync(blobs, "127.0.0.1", 0, Token);
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        var before = await SeriesAsync();

        using (var refused = await http.GetAsync("blobs/a%2Fb")) Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        for (var i = 0; i < 2; i++)
            using (var found = await GetAsync(http, "blobs/a%2Fb", Token)) Assert.Equal([1, 2, 3], await found.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync());
        using (var missing = await GetAsync(http, "blobs/a%2Fnone", Token)) Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using (var put = new HttpRequestMessage(HttpMethod.Put, "blobs/c") { Content = new ByteArrayContent([4, 5]) })
        {
            put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            (await http.SendAsync(put)).EnsureSuccessStatusCode().Dispose();
        }

        // The server records a request once its response is sent, which may be just after the client has it:
        // poll the endpoint for that outcome (real I/O), not for time to pass.
        var expected = new Dictionary<string, double>
        {
            ["mapreduce_kvstore_request_seconds_count{method=\"GET\",status=\"401\"}"] = 1,
            ["mapreduce_kvstore_request_seconds_count{method=\"GET\",status=\"200\"}"] = 2,
            ["mapreduce_kvstore_request_seconds_count{method=\"GET\",status=\"404\"}"] = 1,
            ["mapreduce_kvstore_request_seconds_count{method=\"PUT\",status=\"200\"}"] = 1,
        };
        Dictionary<string, double> after = [];
        for (var tries = 0; tries < 50; tries++)
        {
            after = await SeriesAsync();
            if (expected.All(kv => Delta(before, after, kv.Key) == kv.Value)) break;
            await Task.Delay(100);
        }
        Assert.Equal(expected, expected.ToDictionary(kv => kv.Key, kv => Delta(before, after, kv.Key)));
        // Each falls in a bucket: the +Inf bucket holds them all.
        Assert.Equal(2, Delta(before, after, "mapreduce_kvstore_request_seconds_bucket{method=\"GET\",status=\"200\",le=\"+Inf\"}"));
    }

    private static Task<HttpResponseMessage> GetAsync(HttpClient http, string path, string bearer)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return http.SendAsync(request);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string message)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(message, JsonSerializer.Deserialize<ApiModels.ApiError>(await response.Content.ReadAsStringAsync(), ApiModels.Json)!.Error);
    }
}
