using System.Globalization;
using System.Text.Json;
using MapReduce.Actors.BlobClients;
using MapReduce.Submit.Client;
using static MapReduce.Actors.Protocol.ApiModels;

namespace MapReduce.Submit;

/// <summary>`jobs` and `status JOB`: what the cluster (or, when none runs, the store's catalog) knows of jobs.</summary>
public static class StatusCommand
{
    public static async Task<int> ListAsync(ClusterOptions o, int limit, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (o.OpenSource(error) is not { } source) return ExitCodes.UsageError;
        return await Guard(error, async () =>
        {
            var jobs = await source.JobsAsync(limit, ct);
            if (o.Json)
            {
                output.WriteLine(JsonSerializer.Serialize(jobs, Submission.PrettyJson));
                return ExitCodes.Ok;
            }
            if (jobs.Length == 0) output.WriteLine("no jobs");
            else output.WriteLine($"{"JOB",-26} {"STATE",-10} {"PROGRESS",-18} {"SUBMITTED",-20} {"DURATION",9}  {"INPUT",-28} CODE");
            foreach (var j in jobs)
            {
                output.WriteLine($"{j.Id,-26} {j.State,-10} {Progress(j),-18} {j.SubmittedAt.ToLocalTime():yyyy-MM-dd HH:mm:ss}  {Seconds(j.DurationSeconds),9}  {j.DatasetId,-28} {j.CodeId}"
                    + (j.Error is null ? "" : $"  error: {FirstLine(j.Error)}")
                    + string.Concat((j.WaitingFor ?? []).Select(w => $"  waiting for the {w.What}")));
            }
            await PrintUnavailableWorkersAsync(source, output, ct);
            return ExitCodes.Ok;
        });
    }

    public static async Task<int> ShowAsync(ClusterOptions o, string id, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (o.OpenSource(error) is not { } source) return ExitCodes.UsageError;
        return await Guard(error, async () =>
        {
            if (await source.JobAsync(id, ct) is not { } detail)
            {
                error.WriteLine($"error: no job '{id}' in {source.Description}");
                return ExitCodes.UsageError;
            }
            var attempts = await source.AttemptsAsync(id, ct) ?? [];
            if (o.Json)
            {
                output.WriteLine(JsonSerializer.Serialize(new { detail.Job, detail.ResultDatasetId, detail.Parts, detail.Counters, detail.PartitionBytes, Attempts = attempts }, Submission.PrettyJson));
                return ExitCodes.Ok;
            }
            var j = detail.Job;
            output.WriteLine($"job       {j.Id}");
            output.WriteLine($"state     {j.State}");
            output.WriteLine($"progress  {Progress(j)}");
            foreach (var w in j.WaitingFor ?? [])
                output.WriteLine($"waiting   for the {w.What}: {w.Reason} since {w.Since:u} (tasks resume when it is back)");
            output.WriteLine($"input     {j.DatasetId}");
            output.WriteLine($"code      {j.CodeId}");
            output.WriteLine($"submitted {j.SubmittedAt:u}");
            if (j.FinishedAt is { } finished) output.WriteLine($"finished  {finished:u} ({Seconds(j.DurationSeconds)})");
            if (detail.ResultDatasetId is not null) output.WriteLine($"result    {detail.ResultDatasetId} ({detail.Parts.Length} parts)");
            if (j.Error is not null) output.WriteLine($"error     {j.Error}");
            foreach (var kind in new[] { "map", "reduce" })
            {
                var ofKind = attempts.Where(a => a.Kind == kind).ToList();
                var byState = ofKind.GroupBy(a => a.State).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}={g.Count()}");
                output.WriteLine($"{kind,-9} {ofKind.Select(a => a.Task).Distinct().Count()} tasks, {ofKind.Count} attempts: {string.Join(" ", byState)}");
            }
            // The attempts whose failure skipped a bad record name it (--skip-bad-records; docs/master.md).
            bool Skipping(Attempt a) => a.Error?.StartsWith(Actors.Master.BadRecords.SkippedPrefix, StringComparison.Ordinal) == true;
            foreach (var failed in attempts.Where(a => a.State == States.Failed && !Skipping(a)))
                output.WriteLine($"  failed {failed.Name} on {failed.Worker}: {FirstLine(failed.Error ?? "")}");
            var skipped = attempts.Where(Skipping).ToList();
            if (skipped.Count > 0) output.WriteLine($"skipped   {skipped.Count} bad records (Map failed on each in two attempts)");
            foreach (var a in skipped)
                output.WriteLine($"  {FirstLine(a.Error!)[Actors.Master.BadRecords.SkippedPrefix.Length..]} ({a.Name})");
            PrintCounters(detail.Counters, output);
            await PrintUnavailableWorkersAsync(source, output, ct);
            return ExitCodes.Ok;
        });
    }

    /// <summary>Workers of a running cluster that offer no slot, and why (a full scratch disk: docs/operations.md#full-disks).</summary>
    private static async Task PrintUnavailableWorkersAsync(IJobSource source, TextWriter output, CancellationToken ct)
    {
        if (source is not ApiJobSource api) return;
        foreach (var m in (await api.Api.ClusterAsync(ct)).Members.Where(m => m.Unavailable is not null))
            output.WriteLine($"worker {m.Address}: {m.Unavailable}");
    }

    /// <summary>Each counter on a line of its own: name, then value.</summary>
    public static void PrintCounters(IReadOnlyDictionary<string, long> counters, TextWriter output)
    {
        if (counters.Count == 0) return;
        output.WriteLine("counters");
        var width = counters.Keys.Max(k => k.Length);
        foreach (var (name, value) in counters.OrderBy(c => c.Key, StringComparer.Ordinal))
            output.WriteLine($"  {name.PadRight(width)}  {value.ToString("N0", CultureInfo.InvariantCulture)}");
    }

    /// <summary>The cluster's refusals and absences as one line each, never a stack trace.</summary>
    public static async Task<int> Guard(TextWriter error, Func<Task<int>> run)
    {
        try { return await run(); }
        catch (ApiException e)
        {
            error.WriteLine($"error: {e.Message}");
            return e.Status switch
            {
                System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.BadRequest => ExitCodes.UsageError,
                System.Net.HttpStatusCode.Conflict => ExitCodes.JobFailed,
                _ => ExitCodes.ClusterError,
            };
        }
        catch (Actors.BlobClients.KvStoreUnreachableException e)
        {
            error.WriteLine($"error: {Actors.BlobClients.KvStoreUnreachableException.Advice(e.Message)}");
            return ExitCodes.ClusterError;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Actors.BlobClients.KvStoreException)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.JobFailed;
        }
    }

    public static string Progress(JobSummary j) => $"map {j.MapsDone}/{j.MapsTotal} reduce {j.ReducesDone}/{j.ReducesTotal}";

    private static string Seconds(double s) => s.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    private static string FirstLine(string text) => text.Split('\n')[0];
}
