using System.Net.Http.Json;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;

namespace MapReduce.Node;

/// <summary>
/// A local cluster kept up between jobs (<c>--keep-cluster</c>) stops itself once no job has run
/// and no client has asked anything for the given time, so nothing lingers for ever.
/// </summary>
public static class IdleStop
{
    /// <summary>Returns once every master that answers has been idle for <paramref name="limit"/>.</summary>
    /// <param name="serverCheck">How the masters' HTTPS certificates are judged (a local cluster on a TLS config).</param>
    public static async Task WaitAsync(LocalCluster cluster, TimeSpan limit, ServerCertificateCheck serverCheck, CancellationToken ct)
    {
        // A question to a master on this machine, asked every second: polling, not waits anyone sizes
        // (the idle limit itself is --idle-stop, i.e. mapreduce.local.keep-cluster).
        using var http = new HttpClient(serverCheck.Handler()) { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            double? idle = null;
            foreach (var url in cluster.ApiUrls)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(url), "api/idle"));
                    request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", cluster.Token);
                    using var response = await http.SendAsync(request, ct);
                    var info = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<ApiModels.IdleInfo>(ApiModels.Json, ct);
                    if (info is not null) idle = Math.Min(idle ?? double.MaxValue, info.IdleSeconds);
                }
                catch (HttpRequestException) { } // a master restarting: the others decide
                catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            }
            if (idle is { } seconds && seconds >= limit.TotalSeconds) return;
        }
    }
}
