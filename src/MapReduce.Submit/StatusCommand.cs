using MapReduce.Storage.Catalog;

namespace MapReduce.Submit;

/// <summary>`status`: jobs and their task executions as the catalog records them.</summary>
public static class StatusCommand
{
    public static int Run(SqlLocation catalogLocation, string? execId, TextWriter output, TextWriter error)
    {
        if (MissingCatalog(catalogLocation) is { } missing)
        {
            error.WriteLine($"error: {missing}");
            return JobCommand.UsageError;
        }
        var catalog = new CatalogStore(catalogLocation);
        if (execId is null)
        {
            var jobs = catalog.ListJobs();
            if (jobs.Count == 0) output.WriteLine("no jobs");
            foreach (var job in jobs)
            {
                output.WriteLine($"{job.ExecId}  {job.Status,-8} maps={job.MapTasks} reducers={job.Reducers} data={job.DirId} code={job.CodeId} submitted={job.SubmittedAt:u}{(job.Error is null ? "" : $"  error: {FirstLine(job.Error)}")}");
            }
            return JobCommand.Ok;
        }

        var one = catalog.GetJob(execId);
        if (one is null)
        {
            error.WriteLine($"error: no job '{execId}' in the catalog");
            return JobCommand.UsageError;
        }
        output.WriteLine($"job       {one.ExecId}");
        output.WriteLine($"status    {one.Status}");
        output.WriteLine($"data      {one.DirId}");
        output.WriteLine($"code      {one.CodeId}");
        output.WriteLine($"submitted {one.SubmittedAt:u}");
        if (one.FinishedAt is { } finished) output.WriteLine($"finished  {finished:u} ({(finished - one.SubmittedAt).TotalSeconds:0.0} s)");
        if (one.ResultDirId is not null) output.WriteLine($"result    {one.ResultDirId}");
        if (one.Error is not null) output.WriteLine($"error     {one.Error}");
        var executions = catalog.GetExecutions(execId);
        foreach (var type in new[] { ExecutionType.Map, ExecutionType.Reduce })
        {
            var ofType = executions.Where(e => e.ExecType == type).ToList();
            var tasks = ofType.Select(e => e.TaskId).Distinct().Count();
            var byStatus = ofType.GroupBy(e => e.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}");
            output.WriteLine($"{type,-9} {tasks} tasks, {ofType.Count} attempts: {string.Join(" ", byStatus)}");
        }
        foreach (var failed in executions.Where(e => e.Status == ExecutionStatus.Failure))
            output.WriteLine($"  failed {failed.AttemptId} on {failed.Worker}: {FirstLine(failed.Error ?? "")}");
        return JobCommand.Ok;
    }

    /// <summary>Why there is nothing to read (a SQLite catalog file that does not exist), or null.</summary>
    public static string? MissingCatalog(SqlLocation location) =>
        location.SqliteFilePath is { } file && !File.Exists(file) ? $"no catalog at {file}; run a job first or pass --store / --catalog" : null;

    private static string FirstLine(string text) => text.Split('\n')[0];
}
