using MapReduce.Actors.Protocol;
using MapReduce.Submit.Client;

namespace MapReduce.Submit.Bench;

/// <summary>A benchmark job to run to its end: <see cref="Client.RunJob"/> plus where its result goes.</summary>
public sealed record BenchJob(RunJob Job, string OutputFolder);

/// <summary>How a benchmark job ended; a failed one ends the benchmark (see <see cref="BenchCommand.RunJobAsync"/>).</summary>
public sealed record JobOutcome(bool Succeeded, string? JobId, string? DataId, string? CodeId, string Message, IReadOnlyList<string> OutputFiles);

/// <summary>The benchmarks' way to run whole jobs on a cluster: through its control API, as the CLI does.</summary>
public sealed class BenchClient(ClusterApi api, bool shortCircuit)
{
    public ClusterApi Api => api;

    /// <summary>Uploads, submits, follows and downloads one job; a failure is an outcome, not an exception.</summary>
    public async Task<JobOutcome> RunAsync(BenchJob job, Action<JobEvent> report, CancellationToken ct)
    {
        try
        {
            var runner = await JobRunner.ConnectAsync(api, shortCircuit, report, ct);
            var submitted = await runner.SubmitAsync(job.Job, ct);
            var end = await runner.FollowAsync(submitted.JobId, ct);
            if (end.State != Actors.Protocol.ApiModels.States.Succeeded)
                return new JobOutcome(false, submitted.JobId, submitted.DataId, submitted.CodeId, $"job {submitted.JobId} {end.State}: {end.Error}", []);
            var files = await runner.DownloadAsync(submitted.JobId, end.Parts, job.OutputFolder, ct);
            return new JobOutcome(true, submitted.JobId, submitted.DataId, submitted.CodeId, $"job {submitted.JobId} succeeded", files);
        }
        catch (ApiException e)
        {
            return new JobOutcome(false, null, job.Job.DataId, job.Job.CodeId, e.Message, []);
        }
    }
}
