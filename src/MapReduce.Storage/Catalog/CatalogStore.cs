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

    /// <summary>
    /// Creates the tables that do not exist yet and adds the columns a catalog of an older version
    /// lacks; with SQLite also turns on WAL so readers never block writers.
    /// </summary>
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
        db.CreateTable<TaskCounterRow>(tableOptions: TableOptions.CheckExistence);
        db.CreateTable<MapOutputRow>(tableOptions: TableOptions.CheckExistence);
        db.CreateTable<IncrementalRunRow>(tableOptions: TableOptions.CheckExistence);
        // Added after catalogs existed: typed like updated_at and error, which every version has.
        AddColumnIfMissing(db, "executions", "started_at", like: "updated_at");
        AddColumnIfMissing(db, "executions", "outcome", like: "error");
        AddColumnIfMissing(db, "jobs", "waiting_for", like: "error");
        AddColumnIfMissing(db, "executions", "backup", like: "partition");
        AddColumnIfMissing(db, "chunks", "content_id", like: "chunk_id");
    }

    private void AddColumnIfMissing(DataConnection db, string table, string column, string like)
    {
        if (Location.Provider == SqlLocation.Postgres)
        {
            var type = db.Execute<string>(
                "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE a.attrelid = @table::regclass AND a.attname = @like",
                new DataParameter("table", table), new DataParameter("like", like));
            db.Execute($"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {type}");
            return;
        }
        string? TypeOf(string name) =>
            db.Query<string>($"SELECT type FROM pragma_table_info('{table}') WHERE name = @name", new DataParameter("name", name)).FirstOrDefault();
        if (TypeOf(column) is not null) return;
        try
        {
            db.Execute($"ALTER TABLE {table} ADD COLUMN {column} {TypeOf(like)}");
        }
        catch (Microsoft.Data.Sqlite.SqliteException e) when (e.Message.Contains("duplicate column", StringComparison.OrdinalIgnoreCase))
        {
            // Another node process added it meanwhile.
        }
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

    /// <summary>
    /// Records a dataset a client uploaded, once: an id already taken keeps its rows. Asking again with
    /// the same chunks (a client whose answer was lost) is <see cref="NewDataset.AlreadyThere"/>; with
    /// others, <see cref="NewDataset.Taken"/>. Two registrations at once: the second insert fails on the
    /// key, and is then judged like a later one.
    /// </summary>
    public NewDataset RegisterNewDataset(DatasetRow dataset, IReadOnlyCollection<ChunkRow> chunks)
    {
        System.Data.Common.DbException? failed = null;
        using (var db = Open())
        {
            try
            {
                using var tx = db.BeginTransaction();
                if (!db.GetTable<DatasetRow>().Any(d => d.DirId == dataset.DirId))
                {
                    db.Insert(dataset);
                    if (chunks.Count > 0) db.BulkCopy(chunks);
                    tx.Commit();
                    return NewDataset.Registered;
                }
            }
            catch (System.Data.Common.DbException e)
            {
                failed = e; // another registration of the id may have won the race: judged below
            }
        }
        if (GetDataset(dataset.DirId) is not { } existing)
        {
            // Not a lost race: the insert failed of itself. Or the dataset was deleted meanwhile: try again.
            if (failed is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed);
            return RegisterNewDataset(dataset, chunks);
        }
        var same = existing.Kind == dataset.Kind
                   && GetChunks(dataset.DirId).Select(Identity).Order(StringComparer.Ordinal).SequenceEqual(chunks.Select(Identity).Order(StringComparer.Ordinal));
        return same ? NewDataset.AlreadyThere : NewDataset.Taken;

        static string Identity(ChunkRow c) => $"{c.DocId}\n{c.ChunkIndex}\n{c.ChunkId}\n{c.Bytes}";
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

    /// <summary>The kept map outputs among <paramref name="outputIds"/>, by id.</summary>
    public IReadOnlyDictionary<string, MapOutputRow> FindMapOutputs(IReadOnlyCollection<string> outputIds)
    {
        using var db = Open();
        var found = new Dictionary<string, MapOutputRow>(StringComparer.Ordinal);
        foreach (var batch in outputIds.Distinct().Chunk(500))
            foreach (var row in db.GetTable<MapOutputRow>().Where(r => batch.Contains(r.OutputId)))
                found[row.OutputId] = row;
        return found;
    }

    public IncrementalRunRow? FindIncrementalRun(string lineage)
    {
        using var db = Open();
        return db.GetTable<IncrementalRunRow>().FirstOrDefault(r => r.Lineage == lineage);
    }

    /// <summary>
    /// Records an incremental job that succeeded as its lineage's latest, with the map outputs it used
    /// (ran or reused), in one transaction; returns the runs folders of the lineage's map outputs it
    /// does not use, whose rows are gone: the caller deletes their blobs (rows first, so no job finds
    /// an output whose blobs are going).
    /// </summary>
    public IReadOnlyList<string> KeepIncremental(IncrementalRunRow run, IReadOnlyCollection<MapOutputRow> outputs)
    {
        using var db = Open();
        using var tx = db.BeginTransaction();
        if (db.GetTable<IncrementalRunRow>().FirstOrDefault(r => r.Lineage == run.Lineage) is { } latest && latest.JobId != run.JobId && latest.SubmittedAt > run.SubmittedAt)
        {
            // A later job of the lineage is recorded already (this clean-up came late): of this job's outputs, those no row names go.
            var named = db.GetTable<MapOutputRow>().Where(r => r.Lineage == run.Lineage).Select(r => r.RunsFolder).ToList().ToHashSet(StringComparer.Ordinal);
            tx.Commit();
            return outputs.Select(o => o.RunsFolder).Where(f => !named.Contains(f)).Distinct().ToList();
        }
        var kept = outputs.Select(o => o.OutputId).ToHashSet(StringComparer.Ordinal);
        var keptFolders = outputs.Select(o => o.RunsFolder).ToHashSet(StringComparer.Ordinal);
        var old = db.GetTable<MapOutputRow>().Where(r => r.Lineage == run.Lineage).ToList().Where(r => !kept.Contains(r.OutputId)).ToList();
        foreach (var batch in old.Select(r => r.OutputId).Chunk(500)) db.GetTable<MapOutputRow>().Where(r => batch.Contains(r.OutputId)).Delete();
        foreach (var output in outputs) db.InsertOrReplace(output);
        db.InsertOrReplace(run);
        tx.Commit();
        return old.Select(r => r.RunsFolder).Where(f => !keptFolders.Contains(f)).Distinct().ToList();
    }

    /// <summary>
    /// Records an incremental job that succeeded and the map outputs it used, without deleting the
    /// lineage's others (<see cref="KeepIncremental"/> does, with their blobs): written with the job's
    /// end, so a re-run submitted once the job shows as ended finds them.
    /// </summary>
    public void RecordIncremental(IncrementalRunRow run, IReadOnlyCollection<MapOutputRow> outputs)
    {
        using var db = Open();
        using var tx = db.BeginTransaction();
        if (db.GetTable<IncrementalRunRow>().FirstOrDefault(r => r.Lineage == run.Lineage) is { } latest && latest.SubmittedAt > run.SubmittedAt) return;
        foreach (var output in outputs) db.InsertOrReplace(output);
        db.InsertOrReplace(run);
        tx.Commit();
    }

    /// <summary>
    /// Forgets what incremental re-runs keep of a deleted dataset: the lineages whose latest job read
    /// it lose their map outputs (their runs folders are returned, for the caller to delete), and a
    /// lineage whose latest result it was no longer returns it.
    /// </summary>
    public IReadOnlyList<string> DropIncremental(string dirId)
    {
        using var db = Open();
        using var tx = db.BeginTransaction();
        var lineages = db.GetTable<IncrementalRunRow>().Where(r => r.DirId == dirId).Select(r => r.Lineage).ToList();
        var folders = new List<string>();
        foreach (var lineage in lineages)
        {
            folders.AddRange(db.GetTable<MapOutputRow>().Where(r => r.Lineage == lineage).Select(r => r.RunsFolder).ToList());
            db.GetTable<MapOutputRow>().Where(r => r.Lineage == lineage).Delete();
        }
        db.GetTable<IncrementalRunRow>().Where(r => r.DirId == dirId || r.ResultDirId == dirId).Delete();
        tx.Commit();
        return folders.Distinct().ToList();
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

    /// <summary>
    /// Writes attempt rows; a row without <see cref="ExecutionRow.StartedAt"/> keeps the start time already stored.
    /// Plain SQL, an upsert both SQLite and PostgreSQL read, many rows a statement in one transaction:
    /// the projection writes a row or two per task, and building a LINQ upsert per row cost more than writing it.
    /// </summary>
    public void UpsertExecutions(IReadOnlyCollection<ExecutionRow> executions)
    {
        // One statement may not change a row twice (PostgreSQL): the last of a key wins, as row by row.
        var rows = executions.GroupBy(r => (r.ExecId, r.AttemptId)).Select(g => g.Last()).ToList();
        Upsert(rows, """
            INSERT INTO executions (exec_id, attempt_id, task_id, exec_type, chunk_id, "partition", status, result_doc_id, worker, error, updated_at, started_at, outcome, backup)
            VALUES {0}
            ON CONFLICT (exec_id, attempt_id) DO UPDATE SET task_id = excluded.task_id, exec_type = excluded.exec_type, chunk_id = excluded.chunk_id,
                "partition" = excluded."partition", status = excluded.status, result_doc_id = excluded.result_doc_id, worker = COALESCE(excluded.worker, executions.worker),
                error = excluded.error, updated_at = excluded.updated_at, started_at = COALESCE(excluded.started_at, executions.started_at), outcome = excluded.outcome,
                backup = COALESCE(excluded.backup, executions.backup)
            """, (r, i) =>
        [
            new($"e{i}", r.ExecId, DataType.NVarChar), new($"a{i}", r.AttemptId, DataType.NVarChar), new($"t{i}", r.TaskId, DataType.NVarChar),
            new($"x{i}", r.ExecType, DataType.NVarChar), new($"c{i}", r.ChunkId, DataType.NVarChar), new($"p{i}", r.Partition, DataType.Int32),
            new($"s{i}", r.Status, DataType.NVarChar), new($"r{i}", r.ResultDocId, DataType.NVarChar), new($"w{i}", r.Worker, DataType.NVarChar),
            new($"m{i}", r.Error, DataType.NVarChar), new($"u{i}", AsStored(r.UpdatedAt), DataType.DateTime), new($"b{i}", r.StartedAt is { } started ? AsStored(started) : null, DataType.DateTime),
            new($"o{i}", r.Outcome, DataType.NVarChar), new($"k{i}", r.Backup, DataType.Int32),
        ]);
    }

    /// <summary>Writes counters of tasks' accepted attempts (one row per task and name; a replay writes the same values again).</summary>
    public void UpsertCounters(IReadOnlyCollection<TaskCounterRow> counters)
    {
        var rows = counters.GroupBy(r => (r.ExecId, r.TaskId, r.Name)).Select(g => g.Last()).ToList();
        Upsert(rows, """
            INSERT INTO task_counters (exec_id, task_id, name, value) VALUES {0}
            ON CONFLICT (exec_id, task_id, name) DO UPDATE SET value = excluded.value
            """, (r, i) =>
        [
            new($"e{i}", r.ExecId, DataType.NVarChar), new($"t{i}", r.TaskId, DataType.NVarChar), new($"n{i}", r.Name, DataType.NVarChar),
            new($"v{i}", r.Value, DataType.Int64),
        ]);
    }

    /// <summary>
    /// A UTC time as the columns hold it (timestamp without time zone): Npgsql refuses a DateTime of
    /// kind Utc for that type, where linq2db's own statements converted it.
    /// </summary>
    private static DateTime AsStored(DateTime utc) => DateTime.SpecifyKind(utc, DateTimeKind.Unspecified);

    /// <summary>
    /// Rows a statement of <see cref="Upsert{T}"/> writes on PostgreSQL, where each statement is a
    /// round trip: its parameters stay far below the server's limit.
    /// </summary>
    private const int RowsPerStatement = 50;

    /// <summary>
    /// Runs <paramref name="sql"/> with its <c>{0}</c> replaced by the values of up to
    /// <see cref="RowsPerStatement"/> rows at a time, all in one transaction. On SQLite (in-process,
    /// no round trips) one row a statement: the same text each time, so the prepared statement is
    /// reused, where a statement of 50 rows was parsed anew each time and each of its ~700 parameters
    /// bound by a name looked up among all of them (a profile of the master found both).
    /// </summary>
    private void Upsert<T>(IReadOnlyList<T> rows, string sql, Func<T, int, DataParameter[]> parameters)
    {
        if (rows.Count == 0) return;
        var rowsPerStatement = Location.Provider == SqlLocation.Sqlite ? 1 : RowsPerStatement;
        using var db = Open();
        using var tx = db.BeginTransaction();
        for (var first = 0; first < rows.Count; first += rowsPerStatement)
        {
            var batch = Enumerable.Range(first, Math.Min(rowsPerStatement, rows.Count - first)).Select(i => parameters(rows[i], i - first)).ToList();
            var values = string.Join(", ", batch.Select(p => "(" + string.Join(", ", p.Select(x => "@" + x.Name)) + ")"));
            db.Execute(string.Format(System.Globalization.CultureInfo.InvariantCulture, sql, values), [.. batch.SelectMany(p => p)]);
        }
        tx.Commit();
    }

    /// <summary>
    /// A job's counters per task and summed over tasks, with the attempt accounting from its
    /// executions: <c>attempts</c> (every attempt handed out), <c>attempts.failed</c> (failed by
    /// its code, its input or storage) and <c>attempts.lost</c> (worker left or vanished, timed out, never arrived);
    /// and, for a job that launched backup attempts, <c>backups.launched</c> and <c>backups.won</c> (the backup finished first).
    /// </summary>
    public JobCounters GetCounters(string execId)
    {
        using var db = Open();
        var perTask = new SortedDictionary<string, SortedDictionary<string, long>>(StringComparer.Ordinal);
        SortedDictionary<string, long> Task(string taskId) =>
            perTask.TryGetValue(taskId, out var counters) ? counters : perTask[taskId] = new(StringComparer.Ordinal);
        foreach (var row in db.GetTable<TaskCounterRow>().Where(c => c.ExecId == execId))
            Task(row.TaskId)[row.Name] = row.Value;
        var backups = (Launched: 0L, Won: 0L);
        foreach (var e in db.GetTable<ExecutionRow>().Where(e => e.ExecId == execId).Select(e => new { e.TaskId, e.Status, e.Outcome, e.Backup }))
        {
            if (e.Backup == 1)
            {
                backups.Launched++;
                if (e.Status == ExecutionStatus.Success) backups.Won++;
            }
            var counters = Task(e.TaskId);
            var failed = e.Status == ExecutionStatus.Failure && e.Outcome is not (ExecutionOutcome.Lost or ExecutionOutcome.Stopped) ? 1 : 0;
            var lost = e.Status == ExecutionStatus.Failure && e.Outcome == ExecutionOutcome.Lost ? 1 : 0;
            counters[AttemptCounters.Attempts] = counters.GetValueOrDefault(AttemptCounters.Attempts) + 1;
            counters[AttemptCounters.Failed] = counters.GetValueOrDefault(AttemptCounters.Failed) + failed;
            counters[AttemptCounters.Lost] = counters.GetValueOrDefault(AttemptCounters.Lost) + lost;
        }
        var totals = new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            [AttemptCounters.Attempts] = 0, [AttemptCounters.Failed] = 0, [AttemptCounters.Lost] = 0,
        };
        foreach (var counters in perTask.Values)
            foreach (var (name, value) in counters) totals[name] = totals.GetValueOrDefault(name) + value;
        if (backups.Launched > 0)
        {
            totals[AttemptCounters.BackupsLaunched] = backups.Launched;
            totals[AttemptCounters.BackupsWon] = backups.Won;
        }
        return new JobCounters(totals, perTask.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, long>)kv.Value, StringComparer.Ordinal));
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

    /// <summary>How many jobs have not ended (pending or running).</summary>
    public int UnfinishedJobCount()
    {
        using var db = Open();
        return db.GetTable<JobRow>().Count(j => j.Status != ExecutionStatus.Success && j.Status != ExecutionStatus.Failure && j.Status != ExecutionStatus.Cancelled);
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
        // The maps an incremental job reused ran no attempt: each has its counter instead.
        var reused = db.GetTable<TaskCounterRow>()
            .Where(c => execIds.Contains(c.ExecId) && c.Name == AttemptCounters.MapReused)
            .GroupBy(c => c.ExecId)
            .Select(g => new { ExecId = g.Key, Count = g.Count() })
            .ToDictionary(g => g.ExecId, g => g.Count);
        return rows.Select(r => r.ExecId).Concat(reused.Keys).Distinct().ToDictionary(
            id => id,
            id => (rows.Count(r => r.ExecId == id && r.ExecType == ExecutionType.Map) + reused.GetValueOrDefault(id),
                rows.Count(r => r.ExecId == id && r.ExecType == ExecutionType.Reduce)));
    }
}

/// <summary>The counters <see cref="CatalogStore.GetCounters"/> derives from a job's attempts.</summary>
public static class AttemptCounters
{
    /// <summary>1 for each map task of an incremental job whose output an earlier job left (the task ran no attempt).</summary>
    public const string MapReused = "map.reused";

    public const string Attempts = "attempts";
    public const string Failed = "attempts.failed";
    public const string Lost = "attempts.lost";
    /// <summary>Backup attempts started for stragglers (only in jobs that started any).</summary>
    public const string BackupsLaunched = "backups.launched";
    /// <summary>Backup attempts that finished before the attempt they backed up.</summary>
    public const string BackupsWon = "backups.won";
}

/// <summary>What <see cref="CatalogStore.RegisterNewDataset"/> did.</summary>
public enum NewDataset
{
    Registered,
    /// <summary>The id was registered before with the same chunks: nothing changed.</summary>
    AlreadyThere,
    /// <summary>The id was registered before with other chunks: nothing changed.</summary>
    Taken,
}
