using System.Net;
using MapReduce.Submit.Client;

namespace MapReduce.Submit;

/// <summary>
/// `cancel JOB`: the master journals the cancel, tells the job's running attempts to stop (their
/// slots come free) and deletes its intermediate data. A finished job is refused.
/// </summary>
public static class CancelCommand
{
    public static async Task<int> RunAsync(ClusterOptions o, string id, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var settings = o.Settings;
        ClusterConnection cluster;
        try
        {
            // A job journaled as running on a store no cluster runs on resumes when one starts: start one to cancel it.
            cluster = await ClusterConnection.OpenAsync(o.Connect, settings, output, ct);
        }
        catch (Exception e) when (e is Node.LocalClusterException or TimeoutException)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.ClusterError;
        }
        await using (cluster) return await CancelAsync(cluster.Api, id, output, error);
    }

    /// <summary>Cancels and waits for the master's word (exit code Ok once cancelled); also what Ctrl+C during an attached submit does.</summary>
    public static async Task<int> CancelAsync(ClusterApi api, string id, TextWriter output, TextWriter error)
    {
        try
        {
            var state = await api.CancelAsync(id, CancellationToken.None);
            output.WriteLine($"job {id} {state.State}: its running attempts are being stopped and its intermediate data deleted");
            return ExitCodes.Ok;
        }
        catch (ApiException e)
        {
            error.WriteLine($"error: {e.Message}");
            return e.Status switch
            {
                HttpStatusCode.Conflict => ExitCodes.JobFailed,
                HttpStatusCode.NotFound => ExitCodes.UsageError,
                _ => ExitCodes.ClusterError,
            };
        }
    }
}
