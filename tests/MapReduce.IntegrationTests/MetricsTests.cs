using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// A local cluster whose every node serves its health port (any free one, printed in the node's
/// log), and with it /metrics; its workers read and write blobs over the kvstore's data channel, as
/// on other machines, instead of in its folder.
/// </summary>
public sealed class MetricsCluster() : RunningCluster("""
    mapreduce.health {
      enabled = on
      port = 0
    }
    mapreduce.kvstore.short-circuit = off
    """);

/// <summary>
/// Prometheus metrics on real node processes (docs/operations.md): /metrics asks for the cluster
/// token on the control API and on the health port (whose probes stay open), answers in the text
/// format, and its counters move with a job by exactly what the job read, shuffled, wrote and ran.
/// </summary>
public sealed class MetricsTests(MetricsCluster cluster, ITestOutputHelper log) : IClassFixture<MetricsCluster>, IDisposable
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Metrics_need_the_token_and_their_counters_move_with_a_job_by_what_it_read_shuffled_wrote_and_ran()
    {
        var apis = cluster.Api.Split(',').Select(url => new Uri(url)).ToList();
        var nodes = await HealthUrlsAsync();
        Assert.Equal(["kvstore", "master-1", "master-2", "worker-1", "worker-2"], nodes.Keys.Order(StringComparer.Ordinal));

        // Without the token: refused on the control API and on the health port, whose probes stay open.
        foreach (var url in apis.Append(nodes["worker-1"]))
        {
            using var refused = await SendAsync(new Uri(url, "metrics"), bearer: null);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal(ClusterTokenCheck.Missing, JsonSerializer.Deserialize<ApiModels.ApiError>(await refused.Content.ReadAsStringAsync(), ApiModels.Json)!.Error);
            using var forged = await SendAsync(new Uri(url, "metrics"), bearer: "guess");
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }
        using (var probe = await SendAsync(new Uri(nodes["worker-1"], "healthz"), bearer: null))
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);

        // With it: the text format, each family typed.
        using (var scraped = await SendAsync(new Uri(apis[0], "metrics"), TestToken.Value))
        {
            Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
            Assert.Equal("text/plain; version=0.0.4; charset=utf-8", scraped.Content.Headers.ContentType!.ToString());
            var text = await scraped.Content.ReadAsStringAsync();
            Assert.Contains("# TYPE mapreduce_jobs_submitted_total counter\n", text);
            Assert.Contains("# TYPE mapreduce_jobs_running gauge\n", text);
            Assert.Contains("# TYPE mapreduce_journal_write_seconds histogram\n", text);
            Assert.Contains("# TYPE process_cpu_seconds_total counter\n", text);
        }

        // The data channel times refused requests too: one without the token is counted as a 401.
        var store = await (await SendAsync(new Uri(apis[0], "api/store"), TestToken.Value)).EnsureSuccessStatusCode()
            .Content.ReadFromJsonAsync<ApiModels.StoreInfo>(ApiModels.Json);
        var before = await ScrapeAllAsync(nodes);
        using (var refused = await SendAsync(new Uri(new Uri(store!.DataUrl), "blobs/code%2Fanything%2Ftask.csx"), bearer: null))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        var input = Cli.Samples("data");
        var files = Directory.GetFiles(input);
        var output = Path.Combine(_work, "out");
        const int reducers = 3;
        var job = await Cli.SubmitAsync("-d", input, "-c", Cli.Samples("wordcount"), "-o", output, "--reducers", reducers.ToString(), "--cluster", cluster.Api);
        Assert.True(job.ExitCode == 0, job.ToString());
        var execId = job.SucceededJob;

        // Independently: each sample file is one chunk, read whole by one map task; the parts are the output.
        var inputBytes = files.Sum(f => new FileInfo(f).Length);
        var outputBytes = Directory.GetFiles(output, "part-*").Sum(f => new FileInfo(f).Length);
        var catalog = new MapReduce.Storage.Catalog.CatalogStore(MapReduce.Storage.Catalog.SqlLocation.SqliteFile(Path.Combine(cluster.Store, "catalog.db")));
        await Cli.EventuallyAsync(() => catalog.GetCounters(execId).Totals.ContainsKey("shuffle.bytes"), TimeSpan.FromSeconds(10), "the job's counters did not reach the catalog");
        var shuffled = catalog.GetCounters(execId).Totals["shuffle.bytes"];
        Assert.True(shuffled > 0);

        var expected = new Dictionary<string, double>
        {
            ["mapreduce_jobs_submitted_total"] = 1,
            ["mapreduce_jobs_ended_total{state=\"succeeded\"}"] = 1,
            ["mapreduce_jobs_ended_total{state=\"failed\"}"] = 0,
            ["mapreduce_attempts_started_total{kind=\"map\"}"] = files.Length,
            ["mapreduce_attempts_started_total{kind=\"reduce\"}"] = reducers,
            ["mapreduce_attempts_ended_total{kind=\"map\",outcome=\"succeeded\"}"] = files.Length,
            ["mapreduce_attempts_ended_total{kind=\"reduce\",outcome=\"succeeded\"}"] = reducers,
            ["mapreduce_attempts_ended_total{kind=\"map\",outcome=\"failed\"}"] = 0,
            ["mapreduce_attempts_ended_total{kind=\"map\",outcome=\"lost\"}"] = 0,
            ["mapreduce_bytes_total{kind=\"read\"}"] = inputBytes,
            ["mapreduce_bytes_total{kind=\"shuffled\"}"] = shuffled,
            ["mapreduce_bytes_total{kind=\"written\"}"] = outputBytes,
            ["mapreduce_task_duration_seconds_count{kind=\"map\",outcome=\"succeeded\"}"] = files.Length,
            ["mapreduce_task_duration_seconds_count{kind=\"reduce\",outcome=\"succeeded\"}"] = reducers,
            ["mapreduce_kvstore_request_seconds_count{method=\"GET\",status=\"401\"}"] = 1,
        };
        // The master counts once the job's events are durable and the kvstore once a response is
        // sent, which may be just after the CLI has what it waited for.
        Dictionary<string, double> after = [];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            after = await ScrapeAllAsync(nodes);
            if (expected.All(kv => Delta(before, after, kv.Key) == kv.Value)) break;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);
        Assert.Equal(expected, expected.ToDictionary(kv => kv.Key, kv => Delta(before, after, kv.Key)));

        // Nothing runs now; both workers' slots are there (tasks-per-worker = 2 each), none busy.
        Assert.Equal(0, after["mapreduce_jobs_running{phase=\"map\"}"] + after["mapreduce_jobs_running{phase=\"reduce\"}"]);
        Assert.Equal(4, after["mapreduce_worker_slots{state=\"total\"}"]);
        Assert.Equal(0, after["mapreduce_worker_slots{state=\"busy\"}"]);
        log.WriteLine(string.Join('\n', after.Where(kv => kv.Key.StartsWith("mapreduce_", StringComparison.Ordinal)).Select(kv => $"{kv.Key} {kv.Value - before.GetValueOrDefault(kv.Key)}")));
        // Latencies were observed: the journal wrote the job's events; over the data channel the
        // workers read the 8 chunks and wrote the 3 parts (and the map runs, which the reduces read).
        Assert.True(Delta(before, after, "mapreduce_journal_write_seconds_count") >= 1);
        Assert.True(Delta(before, after, "mapreduce_kvstore_request_seconds_count{method=\"GET\",status=\"200\"}") >= files.Length);
        Assert.True(Delta(before, after, "mapreduce_kvstore_request_seconds_count{method=\"PUT\",status=\"200\"}") >= reducers);
        Assert.True(Delta(before, after, "mapreduce_task_duration_seconds_sum{kind=\"map\",outcome=\"succeeded\"}") > 0);
    }

    private static double Delta(Dictionary<string, double> before, Dictionary<string, double> after, string series) =>
        after.GetValueOrDefault(series) - before.GetValueOrDefault(series);

    /// <summary>Each node's health URL, from the line its log prints at start.</summary>
    private async Task<Dictionary<string, Uri>> HealthUrlsAsync()
    {
        var logs = Path.Combine(cluster.Store, "logs");
        Dictionary<string, Uri> found = [];
        await Cli.EventuallyAsync(() =>
        {
            found = Directory.GetFiles(logs, "*.log").Select(f => (Name: Path.GetFileNameWithoutExtension(f), Match: Regex.Match(ReadShared(f), @"health: (http://\S+/)healthz ")))
                .Where(x => x.Match.Success).ToDictionary(x => x.Name, x => new Uri(x.Match.Groups[1].Value));
            return found.Count == 5;
        }, TimeSpan.FromSeconds(30), "not every node printed its health URL");
        return found;
    }

    private static string ReadShared(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    /// <summary>Every node's series added up (one scrape per process: a master's health port and control API serve the same numbers).</summary>
    private static async Task<Dictionary<string, double>> ScrapeAllAsync(Dictionary<string, Uri> nodes)
    {
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var url in nodes.Values)
        {
            using var response = await SendAsync(new Uri(url, "metrics"), TestToken.Value);
            foreach (var (series, value) in Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync()))
                sums[series] = sums.GetValueOrDefault(series) + value;
        }
        return sums;
    }

    /// <summary>Prometheus' text format: <c>name{labels} value</c> per line; comments skipped.</summary>
    private static IEnumerable<(string Series, double Value)> Parse(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var space = line.LastIndexOf(' ');
            yield return (line[..space], double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture));
        }
    }

    private static Task<HttpResponseMessage> SendAsync(Uri url, string? bearer)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return Http.SendAsync(request);
    }
}
