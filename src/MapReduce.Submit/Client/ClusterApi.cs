using System.Net;
using System.Net.Http.Json;
using System.Security.Authentication;
using System.Text.Json;
using MapReduce.Actors.Hosting;
using static MapReduce.Actors.Protocol.ApiModels;

namespace MapReduce.Submit.Client;

/// <summary>The cluster said no: <see cref="Exception.Message"/> is its one-line reason, <see cref="Status"/> the HTTP status.</summary>
public sealed class ApiException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// The CLI's only way into the cluster: the control API of the master nodes (docs/api.md). Any
/// master answers; a request that cannot connect, or that the cluster answers 503 (a take-over),
/// goes to the next URL and is retried until <see cref="Patience"/> runs out.
/// </summary>
/// <param name="token">The cluster token, sent as a bearer token with every request; null: none.</param>
/// <param name="serverCheck">How the masters' HTTPS certificates are judged (null: the machine's trusted roots).</param>
/// <param name="waits">How long requests wait (mapreduce.client.patience, request-timeout; null: hocon/mapreduce.hocon's).</param>
/// <param name="time">The clock that <see cref="Patience"/> runs out on, and the pause between rounds of the URLs waits on (null: the system's).</param>
public sealed class ClusterApi(IReadOnlyList<string> urls, string? token = null, ServerCertificateCheck? serverCheck = null, ClientSettings? waits = null,
    TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    private readonly HttpClient _http = new((serverCheck ?? ServerCertificateCheck.SystemRoots).Handler(handler =>
    {
        // Connection tuning, not a wait anyone sizes: a connect that fails goes to the next URL
        // and is retried within Patience; idle pooled connections are closed after half a minute.
        handler.ConnectTimeout = TimeSpan.FromSeconds(5);
        handler.PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30);
    }))
    {
        Timeout = (waits ?? MapReduceSettings.Defaults.Client).RequestTimeout,
    };

    private int _current;

    /// <summary>Each URL given, also several in one comma-separated value, ending in '/'.</summary>
    public IReadOnlyList<string> Urls { get; } = urls
        .SelectMany(u => u.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        .Select(u => u.EndsWith('/') ? u : u + "/").ToList();

    /// <summary>How long the cluster may be unreachable before a request fails (mapreduce.client.patience).</summary>
    public TimeSpan Patience { get; init; } = (waits ?? MapReduceSettings.Defaults.Client).Patience;

    /// <summary>The longest one request waits for its answer (mapreduce.client.request-timeout).</summary>
    public TimeSpan RequestTimeout => _http.Timeout;

    /// <summary>The URL that answered last: where the status page is.</summary>
    public string CurrentUrl => Urls[_current % Urls.Count];

    /// <summary>The clock this client's waits run on.</summary>
    public TimeProvider Time => _time;

    /// <summary>The cluster token this client sends (the kvstore's data channel asks for it too).</summary>
    public string? Token => token;

    /// <summary>How this client judges the cluster's HTTPS certificates; the kvstore's data channel is judged the same way.</summary>
    public ServerCertificateCheck ServerCheck { get; } = serverCheck ?? ServerCertificateCheck.SystemRoots;

    /// <summary>The status page for a person: with the token in the link (a secret: only `page` prints it), which the page's server turns into a cookie of its own.</summary>
    public string PageUrl => token is null ? CurrentUrl : $"{CurrentUrl}?{ClusterTokenCheck.QueryName}={Uri.EscapeDataString(token)}";

    public Task<ClusterInfo> ClusterAsync(CancellationToken ct) => SendAsync<ClusterInfo>(HttpMethod.Get, "api/cluster", null, ct);

    public Task<StoreInfo> StoreAsync(CancellationToken ct) => SendAsync<StoreInfo>(HttpMethod.Get, "api/store", null, ct);

    public Task<RegisteredCode> RegisterCodeAsync(CodeRegistration code, CancellationToken ct) => SendAsync<RegisteredCode>(HttpMethod.Post, "api/code", code, ct);

    public Task<RegisteredDataset> RegisterDatasetAsync(DatasetRegistration dataset, CancellationToken ct) => SendAsync<RegisteredDataset>(HttpMethod.Post, "api/datasets", dataset, ct);

    public Task<DatasetInfo[]> DatasetsAsync(CancellationToken ct) => SendAsync<DatasetInfo[]>(HttpMethod.Get, "api/datasets", null, ct);

    public Task<DatasetDeletion> DeleteDatasetAsync(string id, CancellationToken ct) => SendAsync<DatasetDeletion>(HttpMethod.Delete, $"api/datasets/{Uri.EscapeDataString(id)}", null, ct);

    public Task<JobCreated> SubmitAsync(JobRequest job, CancellationToken ct) => SendAsync<JobCreated>(HttpMethod.Post, "api/jobs", job, ct);

    public Task<JobSummary[]> JobsAsync(int limit, CancellationToken ct) => SendAsync<JobSummary[]>(HttpMethod.Get, $"api/jobs?limit={limit}", null, ct);

    public Task<JobDetail> JobAsync(string id, CancellationToken ct) => SendAsync<JobDetail>(HttpMethod.Get, $"api/jobs/{Uri.EscapeDataString(id)}", null, ct);

    /// <summary>A long poll: answered when the counts differ from those given, the job ends, or after about a second.</summary>
    public Task<JobProgress> ProgressAsync(string id, int knownMaps, int knownReduces, CancellationToken ct) =>
        SendAsync<JobProgress>(HttpMethod.Get, $"api/jobs/{Uri.EscapeDataString(id)}/progress?maps={knownMaps}&reduces={knownReduces}", null, ct);

    public Task<JobProgress> CancelAsync(string id, CancellationToken ct) => SendAsync<JobProgress>(HttpMethod.Post, $"api/jobs/{Uri.EscapeDataString(id)}/cancel", null, ct);

    public Task<Attempt[]> AttemptsAsync(string id, CancellationToken ct) => SendAsync<Attempt[]>(HttpMethod.Get, $"api/jobs/{Uri.EscapeDataString(id)}/attempts", null, ct);

    public Task<AttemptLog[]> LogsAsync(string id, string? task, CancellationToken ct) =>
        SendAsync<AttemptLog[]>(HttpMethod.Get, $"api/jobs/{Uri.EscapeDataString(id)}/logs{(task is null ? "" : $"?task={Uri.EscapeDataString(task)}")}", null, ct);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        var started = _time.GetTimestamp();
        string? lastProblem = null;
        for (var tried = 0; ; tried++)
        {
            var baseUrl = Urls[_current % Urls.Count];
            using var request = new HttpRequestMessage(method, new Uri(new Uri(baseUrl), path));
            if (token is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: Json);
            try
            {
                using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                    return await response.Content.ReadFromJsonAsync<T>(Json, ct).ConfigureAwait(false)
                        ?? throw new ApiException(response.StatusCode, $"{baseUrl} answered {path} with an empty body");
                var error = await ErrorOf(response, ct).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable) throw new ApiException(response.StatusCode, error);
                lastProblem = error;
            }
            catch (HttpRequestException e) when (e.InnerException is AuthenticationException)
            {
                // Waiting would not change the certificate.
                throw new ApiException(HttpStatusCode.ServiceUnavailable, ServerCheck.Describe(e, baseUrl));
            }
            catch (HttpRequestException e)
            {
                lastProblem = $"cannot reach {baseUrl}: {Innermost(e).Message}";
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                lastProblem = $"{baseUrl} did not answer {path} in time";
            }
            _current++;
            if (_time.GetElapsedTime(started) > Patience)
                throw new ApiException(HttpStatusCode.ServiceUnavailable, $"{lastProblem} (tried {string.Join(", ", Urls)} for {Patience.TotalSeconds:0} s)");
            // After a round of every URL, wait a little: a master may be starting or taking over.
            if ((tried + 1) % Urls.Count == 0) await Task.Delay(TimeSpan.FromMilliseconds(200), _time, ct).ConfigureAwait(false);
        }
    }

    private static async Task<string> ErrorOf(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        try
        {
            if (JsonSerializer.Deserialize<ApiError>(text, Json)?.Error is { } message) return message;
        }
        catch (JsonException) { }
        return $"{(int)response.StatusCode} {response.ReasonPhrase}: {text}";
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
