using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Api.ApiModels;

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

    public JobDetail? Job(string id)
    {
        if (catalog.GetJob(id) is not { } row) return null;
        var summary = SummaryOf(row, catalog.TasksDone([row.ExecId]).GetValueOrDefault(row.ExecId));
        var parts = row.Status == ExecutionStatus.Success && row.ResultDirId is { } result
            ? catalog.GetChunks(result).OrderBy(c => c.DocId, StringComparer.Ordinal).Select(c => c.ChunkId).ToArray()
            : [];
        return new JobDetail(summary, row.Status == ExecutionStatus.Success ? row.ResultDirId : null, parts, new Dictionary<string, long>(), []);
    }

    /// <summary>Every attempt of the job, by task then attempt; null for an unknown job.</summary>
    public Attempt[]? Attempts(string id) =>
        catalog.GetJob(id) is null ? null : catalog.GetExecutions(id).Select(AttemptOf).ToArray();

    public DatasetInfo[] Datasets() => catalog.ListDatasets()
        .Select(d => new DatasetInfo(d.DirId, d.Kind, d.Source, d.Documents, d.Chunks, d.Bytes, d.CreatedAt)).ToArray();

    private static JobSummary SummaryOf(JobRow row, (int Maps, int Reduces) done)
    {
        var end = row.FinishedAt ?? DateTime.UtcNow;
        return new JobSummary(row.ExecId, States.OfCatalog(row.Status), done.Maps, row.MapTasks, done.Reduces, row.Reducers,
            row.SubmittedAt, row.FinishedAt, Math.Round((end - row.SubmittedAt).TotalSeconds, 3), row.DirId, row.CodeId, row.Error);
    }

    private static Attempt AttemptOf(ExecutionRow e)
    {
        DateTime? started = null; // TODO(counters merge): executions.started_at
        DateTime? ended = e.Status == ExecutionStatus.Running ? null : e.UpdatedAt;
        return new Attempt(e.AttemptId, e.TaskId, e.ExecType, e.Worker, States.OfCatalog(e.Status), started ?? e.UpdatedAt, ended,
            started is { } s && ended is { } f ? Math.Round((f - s).TotalSeconds, 3) : null, e.Error);
    }
}
