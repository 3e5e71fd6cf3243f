using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.UserCode;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Protocol.ApiModels;

namespace MapReduce.Actors.Api;

/// <summary>
/// Jobs, attempts and counters as the API shows them, read from the catalog (which the master
/// projects into within ~100 ms). The API serves it on the master nodes; the CLI reads a local
/// store's catalog the same way when no cluster runs.
/// </summary>
public sealed class JobReadModel(CatalogStore catalog)
{
    public JobSummary[] Jobs(int limit)
    {
        var rows = catalog.RecentJobs(limit);
        var done = catalog.TasksDone(rows.Select(r => r.ExecId).ToList());
        return rows.Select(r => SummaryOf(r, done.GetValueOrDefault(r.ExecId))).ToArray();
    }

    /// <summary>How many jobs run now (one count, cheap enough to ask every second).</summary>
    public int RunningJobs() => catalog.UnfinishedJobCount();

    public JobDetail? Job(string id)
    {
        if (catalog.GetJob(id) is not { } row) return null;
        var summary = SummaryOf(row, catalog.TasksDone([row.ExecId]).GetValueOrDefault(row.ExecId));
        var parts = row.Status == ExecutionStatus.Success && row.ResultDirId is { } result
            ? catalog.GetChunks(result).OrderBy(c => c.DocId, StringComparer.Ordinal).Select(c => c.ChunkId).ToArray()
            : [];
        var counters = catalog.GetCounters(id);
        // Each partition's output bytes, to see skew: reduce tasks are r00000, r00001, ... in order.
        var partitionBytes = Enumerable.Range(0, row.Reducers)
            .Select(p => counters.PerTask.TryGetValue(TaskId.Reduce(p).ToString(), out var task) ? task.GetValueOrDefault(TaskCounterNames.ReduceOutputBytes) : 0)
            .ToArray();
        return new JobDetail(summary, row.Status == ExecutionStatus.Success ? row.ResultDirId : null, parts, counters.Totals, partitionBytes);
    }

    /// <summary>Every attempt of the job, by task then attempt; null for an unknown job.</summary>
    public Attempt[]? Attempts(string id) =>
        catalog.GetJob(id) is null ? null : catalog.GetExecutions(id).Select(AttemptOf).ToArray();

    /// <summary>
    /// Each attempt's log (of one task, or of all), read with <paramref name="readBlob"/> (null when
    /// the attempt printed nothing); null for an unknown job. The CLI reads them this way from a
    /// stopped store's folder; the API streams them (<see cref="Logs"/>).
    /// </summary>
    public async Task<AttemptLog[]?> LogsAsync(string id, string? task, Func<string, CancellationToken, Task<byte[]?>> readBlob, CancellationToken ct)
    {
        if (Attempts(id) is not { } attempts) return null;
        var logs = new List<AttemptLog>();
        await foreach (var log in Logs(id, attempts, task, readBlob, ct).ConfigureAwait(false)) logs.Add(log);
        return [.. logs];
    }

    /// <summary>
    /// The logs of <paramref name="attempts"/> (of one task, or of all), read one at a time as they
    /// are asked for: a log is up to a megabyte, and a job has thousands of attempts.
    /// </summary>
    public static async IAsyncEnumerable<AttemptLog> Logs(string id, Attempt[] attempts, string? task, Func<string, CancellationToken, Task<byte[]?>> readBlob,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var a in attempts.Where(a => string.IsNullOrEmpty(task) || a.Task == task))
        {
            var bytes = await readBlob(BlobKeys.TaskLog(AttemptId.Parse(new JobId(id), a.Name)), ct).ConfigureAwait(false);
            yield return new AttemptLog(a.Name, a.Task, a.Worker, a.State, bytes is null ? "" : System.Text.Encoding.UTF8.GetString(bytes));
        }
    }

    /// <summary>
    /// A job that ended, as the catalog records it, in the master's words: the master holds only jobs
    /// that run or have just ended, and answers <see cref="MasterProtocol.UnknownJob"/> for one it
    /// archived. Null if the catalog has no such job.
    /// </summary>
    public MasterProtocol.JobStatus? EndedStatus(JobId id)
    {
        if (catalog.GetJob(id.Value) is not { } row) return null;
        var stage = CatalogNames.JobStageOf(row.Status);
        var succeeded = catalog.GetExecutions(id.Value).Where(e => e.Status == ExecutionStatus.Success).Select(e => e.TaskId).Distinct().ToList();
        int[] parts = stage == JobStage.Succeeded && row.ResultDirId is { } result
            ? catalog.GetChunks(result).OrderBy(c => c.DocId, StringComparer.Ordinal).Select(c => BlobKeys.AttemptNumberOf(c.ChunkId)).ToArray()
            : [];
        var reused = catalog.GetCounters(id.Value).Totals.GetValueOrDefault(AttemptCounters.MapReused);
        return new MasterProtocol.JobStatus(id, stage, succeeded.Count(t => t.StartsWith('m')) + (int)reused, row.MapTasks, succeeded.Count(t => t.StartsWith('r')), row.Reducers, row.Error, parts);
    }

    public DatasetInfo[] Datasets() => catalog.ListDatasets()
        .Select(d => new DatasetInfo(d.DirId, d.Kind, d.Source, d.Documents, d.Chunks, d.Bytes, d.CreatedAt)).ToArray();

    /// <summary>The catalog keeps UTC without a zone (SQLite has none): said as UTC, so JSON carries the Z.</summary>
    private static DateTime Utc(DateTime t) => DateTime.SpecifyKind(t, DateTimeKind.Utc);

    private static DateTime? Utc(DateTime? t) => t is { } v ? Utc(v) : null;

    private static JobSummary SummaryOf(JobRow row, (int Maps, int Reduces) done)
    {
        var end = row.FinishedAt ?? DateTime.UtcNow;
        var running = row.Status is ExecutionStatus.Running or ExecutionStatus.Pending;
        return new JobSummary(row.ExecId, States.OfCatalog(row.Status), done.Maps, row.MapTasks, done.Reduces, row.Reducers,
            Utc(row.SubmittedAt), Utc(row.FinishedAt), Math.Round((end - row.SubmittedAt).TotalSeconds, 3), row.DirId, row.CodeId, row.Error,
            running ? WaitingOf(CatalogNames.WaitsOf(row.WaitingFor)) : []);
    }

    private static Attempt AttemptOf(ExecutionRow e)
    {
        DateTime? ended = e.Status == ExecutionStatus.Running ? null : e.UpdatedAt;
        var state = e.Outcome == ExecutionOutcome.Lost ? "lost" : e.Outcome == ExecutionOutcome.Stopped ? "stopped" : States.OfCatalog(e.Status);
        return new Attempt(e.AttemptId, e.TaskId, e.ExecType, e.Worker, state, Utc(e.StartedAt ?? e.UpdatedAt), Utc(ended),
            e.StartedAt is { } s && ended is { } f ? Math.Round((f - s).TotalSeconds, 3) : null, e.Error);
    }
}
