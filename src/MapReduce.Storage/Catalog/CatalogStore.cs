using LinqToDB;
using LinqToDB.Data;

namespace MapReduce.Storage.Catalog;

/// <summary>
/// The metadata catalog (datasets, chunks, code, jobs, executions) through Linq2Db. Every method
/// opens its own short-lived connection, so one instance is safe to share between threads.
/// </summary>
public sealed class CatalogStore
{
    private readonly DataOptions _options;

    public CatalogStore(SqlLocation location)
    {
        Location = location;
        _options = new DataOptions().UseConnectionString(location.Linq2DbProvider, location.ConnectionString);
    }

    public SqlLocation Location { get; }

    private DataConnection Open() => new(_options);

    /// <summary>Creates the tables that do not exist yet; with SQLite also turns on WAL so readers never block writers.</summary>
    public void EnsureCreated()
    {
        if (Location.SqliteFilePath is { } file) Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        using var db = Open();
        if (Location.Provider == SqlLocation.Sqlite) db.Execute("PRAGMA journal_mode=WAL;");
        db.CreateTable<DatasetRow>(tableOptions: TableOptions.CheckExistence);
        db.CreateTable<ChunkRow>(tableOptions: TableOptions.CheckExistence);
        db.CreateTable<CodeRow>(tableOptions: TableOptions.CheckExistence);
        db.CreateTable<JobRow>(tableOptions: TableOptions.CheckExistence);
        db.CreateTable<ExecutionRow>(tableOptions: TableOptions.CheckExistence);
    }

    /// <summary>Records a dataset and all its chunks in one transaction: either all are visible or none.</summary>
    public void RegisterDataset(DatasetRow dataset, IReadOnlyCollection<ChunkRow> chunks)
    {
        using var db = Open();
        using var tx = db.BeginTransaction();
        db.InsertOrReplace(dataset);
        db.GetTable<ChunkRow>().Where(c => c.DirId == dataset.DirId).Delete();
        if (chunks.Count > 0) db.BulkCopy(chunks);
        tx.Commit();
    }

    /// <summary>Removes a dataset and its chunks in one transaction and returns them; null when there is no such dataset.</summary>
    public (DatasetRow Dataset, IReadOnlyList<ChunkRow> Chunks)? DeleteDataset(string dirId)
    {
        using var db = Open();
        using var tx = db.BeginTransaction();
        var dataset = db.GetTable<DatasetRow>().FirstOrDefault(d => d.DirId == dirId);
        if (dataset is null) return null;
        var chunks = db.GetTable<ChunkRow>().Where(c => c.DirId == dirId).ToList();
        db.GetTable<ChunkRow>().Where(c => c.DirId == dirId).Delete();
        db.GetTable<DatasetRow>().Where(d => d.DirId == dirId).Delete();
        tx.Commit();
        return (dataset, chunks);
    }

    public DatasetRow? GetDataset(string dirId)
    {
        using var db = Open();
        return db.GetTable<DatasetRow>().FirstOrDefault(d => d.DirId == dirId);
    }

    public IReadOnlyList<DatasetRow> ListDatasets()
    {
        using var db = Open();
        return db.GetTable<DatasetRow>().OrderBy(d => d.CreatedAt).ToList();
    }

    /// <summary>The chunks of a dataset in document order, then chunk order.</summary>
    public IReadOnlyList<ChunkRow> GetChunks(string dirId)
    {
        using var db = Open();
        return db.GetTable<ChunkRow>().Where(c => c.DirId == dirId).ToList()
            .OrderBy(c => c.DocId, StringComparer.Ordinal).ThenBy(c => c.ChunkIndex).ToList();
    }

    public void RegisterCode(CodeRow code)
    {
        using var db = Open();
        db.InsertOrReplace(code);
    }

    public CodeRow? GetCode(string codeId)
    {
        using var db = Open();
        return db.GetTable<CodeRow>().FirstOrDefault(c => c.CodeId == codeId);
    }

    public void UpsertJob(JobRow job)
    {
        using var db = Open();
        db.InsertOrReplace(job);
    }

    public void UpsertExecutions(IReadOnlyCollection<ExecutionRow> executions)
    {
        if (executions.Count == 0) return;
        using var db = Open();
        using var tx = db.BeginTransaction();
        foreach (var row in executions) db.InsertOrReplace(row);
        tx.Commit();
    }

    public JobRow? GetJob(string execId)
    {
        using var db = Open();
        return db.GetTable<JobRow>().FirstOrDefault(j => j.ExecId == execId);
    }

    public IReadOnlyList<JobRow> ListJobs()
    {
        using var db = Open();
        return db.GetTable<JobRow>().OrderBy(j => j.SubmittedAt).ToList();
    }

    public IReadOnlyList<ExecutionRow> GetExecutions(string execId)
    {
        using var db = Open();
        return db.GetTable<ExecutionRow>().Where(e => e.ExecId == execId).ToList()
            .OrderBy(e => e.TaskId, StringComparer.Ordinal).ThenBy(e => e.AttemptId, StringComparer.Ordinal).ToList();
    }

    /// <summary>The newest <paramref name="limit"/> jobs, newest first.</summary>
    public IReadOnlyList<JobRow> RecentJobs(int limit)
    {
        using var db = Open();
        return db.GetTable<JobRow>().OrderByDescending(j => j.SubmittedAt).ThenByDescending(j => j.ExecId).Take(limit).ToList();
    }

    /// <summary>For each of these jobs, how many of its map and of its reduce tasks have a successful attempt.</summary>
    public IReadOnlyDictionary<string, (int Maps, int Reduces)> TasksDone(IReadOnlyCollection<string> execIds)
    {
        using var db = Open();
        var rows = db.GetTable<ExecutionRow>()
            .Where(e => execIds.Contains(e.ExecId) && e.Status == ExecutionStatus.Success)
            .Select(e => new { e.ExecId, e.ExecType, e.TaskId })
            .Distinct()
            .ToList();
        return rows.GroupBy(r => r.ExecId).ToDictionary(
            g => g.Key,
            g => (g.Count(r => r.ExecType == ExecutionType.Map), g.Count(r => r.ExecType == ExecutionType.Reduce)));
    }
}
