using MapReduce.Submit.Client;
using static MapReduce.Actors.Protocol.ApiModels;

namespace MapReduce.Submit;

/// <summary>`watch JOB`: progress to the job's end; the exit code is the job's (0 succeeded, 1 failed, 4 cancelled).</summary>
public static class WatchCommand
{
    public static async Task<int> RunAsync(ClusterOptions o, string id, bool quiet, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var settings = o.Settings;
        if (ClusterConnection.Find(o.Connect, settings) is not { } cluster)
        {
            // No cluster: the job cannot move; what the store says is its final word.
            if (o.OpenSource(error) is not { } store) return ExitCodes.UsageError;
            if (await store.JobAsync(id, ct) is not { } detail)
            {
                error.WriteLine($"error: no job '{id}' in {store.Description}");
                return ExitCodes.UsageError;
            }
            output.WriteLine($"job {id} {detail.Job.State} ({StatusCommand.Progress(detail.Job)}); no cluster runs on the store");
            return ExitCodeOf(detail.Job.State, detail.Job.Error, error);
        }
        await using (cluster)
        {
            return await StatusCommand.Guard(error, async () =>
            {
                // Disposed before anything else is printed (also on the way out to Guard's error lines).
                await using var progress = ConsoleProgress.For(output, quiet);
                try
                {
                    var end = await JobRunner.FollowAsync(cluster.Api, id, progress.Report, ct);
                    await progress.DisposeAsync();
                    if (end.State == States.Succeeded) output.WriteLine($"job {id} succeeded");
                    return ExitCodeOf(end.State, end.Error, error);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    await progress.DisposeAsync();
                    error.WriteLine($"stopped watching; job {id} goes on (`cancel {id}` stops it)");
                    return ExitCodes.Ok;
                }
            });
        }
    }

    public static int ExitCodeOf(string state, string? why, TextWriter error)
    {
        switch (state)
        {
            case States.Succeeded:
                return ExitCodes.Ok;
            case States.Cancelled:
                error.WriteLine($"job cancelled: {why}");
                return ExitCodes.JobCancelled;
            case States.Failed:
                error.WriteLine($"error: job failed: {why}");
                return ExitCodes.JobFailed;
            default:
                return ExitCodes.ClusterError;
        }
    }
}
