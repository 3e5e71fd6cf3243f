using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Submit;

namespace MapReduce.IntegrationTests;

/// <summary>The cluster token on real node processes: the control API, the status page and the kvstore's data channel answer 401 without it.</summary>
[Collection(StandingCluster.Name)]
public sealed class ClusterTokenTests(RunningCluster cluster) : IDisposable
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, UseCookies = false, AllowAutoRedirect = false });

    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Requests_without_the_cluster_token_get_401_from_the_control_API_the_status_page_and_the_data_channel()
    {
        var api = new Uri(cluster.Api.Split(',')[0]);

        using (var missing = await SendAsync(HttpMethod.Get, new Uri(api, "api/jobs"), bearer: null))
            await AssertRefusedAsync(missing, ClusterTokenCheck.Missing);
        using (var forged = await SendAsync(HttpMethod.Post, new Uri(api, "api/code"), bearer: "guess",
                   JsonContent.Create(new ApiModels.CodeRegistration("code-0123456789abcdef", "code/code-0123456789abcdef/task.csx", "x"))))
            await AssertRefusedAsync(forged, ClusterTokenCheck.Wrong);
        using (var page = await SendAsync(HttpMethod.Get, api, bearer: null))
            await AssertRefusedAsync(page, ClusterTokenCheck.Missing);

        var store = await (await SendAsync(HttpMethod.Get, new Uri(api, "api/store"), TestToken.Value)).EnsureSuccessStatusCode()
            .Content.ReadFromJsonAsync<ApiModels.StoreInfo>(ApiModels.Json);
        var data = new Uri(store!.DataUrl);
        using (var get = await SendAsync(HttpMethod.Get, new Uri(data, "blobs/code%2Fanything%2Ftask.csx"), bearer: null))
            await AssertRefusedAsync(get, ClusterTokenCheck.Missing);
        using (var put = await SendAsync(HttpMethod.Put, new Uri(data, "blobs/code%2Fcode-0123456789abcdef%2Ftask.csx"), bearer: "guess", new ByteArrayContent([1])))
            await AssertRefusedAsync(put, ClusterTokenCheck.Wrong);
        using (var put = await SendAsync(HttpMethod.Put, new Uri(data, "blobs/tests%2Ftoken"), TestToken.Value, new ByteArrayContent([1, 2])))
            Assert.Equal("2", await put.EnsureSuccessStatusCode().Content.ReadAsStringAsync());

        // A person opens the link `mapreduce page` prints: the page is served from then on by a session
        // cookie of that server's own, which is not the token and opens reads only.
        using var link = await SendAsync(HttpMethod.Get, new Uri(api, $"?token={Uri.EscapeDataString(TestToken.Value)}"), bearer: null);
        Assert.Equal(HttpStatusCode.Redirect, link.StatusCode);
        var cookie = link.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        Assert.StartsWith(ClusterTokenCheck.CookieName(api.Port) + "=", cookie);
        Assert.DoesNotContain(TestToken.Value, cookie);
        using var request = new HttpRequestMessage(HttpMethod.Get, api);
        request.Headers.Add("Cookie", cookie);
        using var shown = await Http.SendAsync(request);
        Assert.Contains("<script src=\"/page/page.js\">", await shown.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
        using var cancel = new HttpRequestMessage(HttpMethod.Post, new Uri(api, "api/jobs/job-20261130-080000-abcdef/cancel"));
        cancel.Headers.Add("Cookie", cookie);
        await AssertRefusedAsync(await Http.SendAsync(cancel), ClusterTokenCheck.CookieOnlyReads);
    }

    [Fact]
    public async Task The_CLI_with_another_token_is_refused_with_one_line()
    {
        var result = await Cli.RunAsync("MapReduce.Submit", ["jobs", "--cluster", cluster.Api, "--token", "guess"], TimeSpan.FromMinutes(2));
        Assert.Equal(3, result.ExitCode);
        Assert.Equal($"error: {ClusterTokenCheck.Wrong}", result.Error.Trim());
    }

    /// <summary>
    /// Zero configuration: the local cluster the CLI starts makes its own token, and the CLI on its
    /// store finds it. The cluster is kept for 15 s idle, so that it still runs between the CLIs
    /// started after the submit on a loaded machine (6 s once ran out), and stops within the 20 s
    /// the test waits for it at the end.
    /// </summary>
    [Fact]
    public async Task A_local_cluster_makes_its_own_token_which_the_CLI_finds_on_its_store_and_others_lack()
    {
        var store = Path.Combine(_work, "store");
        var output = Path.Combine(_work, "out");
        var submit = await Cli.RunAsync("MapReduce.Submit", ["-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--store", store, "--keep-cluster", "15s"],
            TimeSpan.FromMinutes(4), withoutToken: true);
        Assert.True(submit.ExitCode == 0, submit.ToString());
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 4));
        // The cluster's own token, which is not the test run's, is in the store's owner file, and
        // never in what submit prints (it ends up in CI logs): the status page's address comes bare.
        var token = File.ReadAllLines(Path.Combine(store, "local-cluster.owner")).Single(l => l.StartsWith("token ", StringComparison.Ordinal))["token ".Length..];
        Assert.NotEqual(TestToken.Value, token);
        Assert.DoesNotContain(token, submit.Output + submit.Error);
        var page = Regex.Match(submit.Output, $@"status page (http://127\.0\.0\.1:\d+/) \({Regex.Escape(Submission.PageHint)}\) ");
        Assert.True(page.Success, submit.Output);

        // `page` prints the link that carries it, because it is asked to.
        var link = await Cli.RunAsync("MapReduce.Submit", ["page", "--store", store], TimeSpan.FromMinutes(2), withoutToken: true);
        Assert.True(link.ExitCode == 0, link.ToString());
        Assert.Equal($"{page.Groups[1].Value}?token={token}", link.Output.Trim());

        var jobs = await Cli.RunAsync("MapReduce.Submit", ["jobs", "--store", store], TimeSpan.FromMinutes(2), withoutToken: true);
        Assert.True(jobs.ExitCode == 0, jobs.ToString());
        Assert.Contains("succeeded", jobs.Output);

        // Without the store, a client has no token: refused.
        var stranger = await Cli.RunAsync("MapReduce.Submit", ["jobs", "--cluster", page.Groups[1].Value, "--store", Path.Combine(_work, "elsewhere")],
            TimeSpan.FromMinutes(2), withoutToken: true);
        Assert.Equal(3, stranger.ExitCode);
        Assert.Equal($"error: {ClusterTokenCheck.Missing}", stranger.Error.Trim());

        await Cli.AssertNoNodeProcessesLeftAsync(store);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, string? bearer, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = content };
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return Http.SendAsync(request);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string message)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(message, JsonSerializer.Deserialize<ApiModels.ApiError>(await response.Content.ReadAsStringAsync(), ApiModels.Json)!.Error);
    }
}
