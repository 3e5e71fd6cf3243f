using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using MapReduce.Tests.Support;
using Microsoft.Data.Sqlite;

namespace MapReduce.Tests.Storage;

/// <summary>Counters and attempt times in the catalog, on real SQLite files, including one a version without them created.</summary>
public sealed class CatalogCountersTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>The executions table as catalogs before counters have it (linq2db's DDL of that version), with one finished attempt.</summary>
    private const string OldSchema = """
        CREATE TABLE [executions]
        (
            [exec_id]       NVarChar(255)     NULL,
            [attempt_id]    NVarChar(255)     NULL,
            [task_id]       NVarChar(255) NOT NULL,
            [exec_type]     NVarChar(255) NOT NULL,
            [chunk_id]      NVarChar(255)     NULL,
            [partition]     INTEGER           NULL,
            [status]        NVarChar(255) NOT NULL,
            [result_doc_id] NVarChar(255)     NULL,
            [worker]        NVarChar(255)     NULL,
            [error]         NVarChar(255)     NULL,
            [updated_at]    DateTime2     NOT NULL,
            CONSTRAINT [PK_executions] PRIMARY KEY ([exec_id], [attempt_id])
        );
        INSERT INTO executions (exec_id, attempt_id, task_id, exec_type, status, error, updated_at)
        VALUES ('job-old', 'm00000.1', 'm00000', 'map', 'failure', 'boom', '2026-11-30 08:00:00');
        """;

    [Fact]
    public void An_old_catalog_gets_the_counters_table_and_the_new_columns_and_keeps_its_rows()
    {
        var file = _folder.File("old.db");
        using (var connection = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = OldSchema;
            create.ExecuteNonQuery();
        }
        var catalog = new CatalogStore(SqlLocation.SqliteFile(file));
        catalog.EnsureCreated();
        catalog.EnsureCreated(); // a second node process starting on the same file finds nothing to add

        var old = Assert.Single(catalog.GetExecutions("job-old"));
        Assert.Equal(("failure", "boom", (DateTime?)null, (string?)null), (old.Status, old.Error, old.StartedAt, old.Outcome));
        Assert.Equal(new Dictionary<string, long> { ["attempts"] = 1, ["attempts.failed"] = 1, ["attempts.lost"] = 0 }, catalog.GetCounters("job-old").Totals);

        var started = new DateTime(2026, 11, 30, 9, 0, 0, DateTimeKind.Utc);
        catalog.UpsertExecutions([Row("job-new", "m00000.1", ExecutionStatus.Running, started, null, started)]);
        catalog.UpsertCounters([new TaskCounterRow { ExecId = "job-new", TaskId = "m00000", Name = "map.input.bytes", Value = 42 }]);
        var row = Assert.Single(catalog.GetExecutions("job-new"));
        Assert.Equal(started, row.StartedAt);
        Assert.Equal(42, catalog.GetCounters("job-new").Totals["map.input.bytes"]);
    }

    [Fact]
    public void A_finished_attempt_written_without_its_start_keeps_the_start_written_before_and_ends_at_updated_at()
    {
        var catalog = NewCatalog();
        var started = new DateTime(2026, 11, 30, 9, 0, 0, DateTimeKind.Utc);
        var ended = started.AddSeconds(7);
        catalog.UpsertExecutions([Row("job-1", "m00000.1", ExecutionStatus.Running, started, null, started)]);
        catalog.UpsertExecutions([Row("job-1", "m00000.1", ExecutionStatus.Success, null, ExecutionOutcome.Succeeded, ended)]);

        var row = Assert.Single(catalog.GetExecutions("job-1"));
        Assert.Equal((ExecutionStatus.Success, ExecutionOutcome.Succeeded, (DateTime?)started, ended), (row.Status, row.Outcome, row.StartedAt, row.UpdatedAt));
    }

    [Fact]
    public void Counters_sum_over_tasks_and_attempts_split_into_failed_and_lost()
    {
        var catalog = NewCatalog();
        var at = new DateTime(2026, 11, 30, 9, 0, 0, DateTimeKind.Utc);
        catalog.UpsertExecutions(
        [
            Row("job-1", "m00000.1", ExecutionStatus.Failure, at, ExecutionOutcome.Failed, at),
            Row("job-1", "m00000.2", ExecutionStatus.Failure, at, ExecutionOutcome.Lost, at),
            Row("job-1", "m00000.3", ExecutionStatus.Success, at, ExecutionOutcome.Succeeded, at),
            Row("job-1", "m00001.1", ExecutionStatus.Success, at, ExecutionOutcome.Succeeded, at),
            Row("job-1", "r00000.1", ExecutionStatus.Running, at, null, at),
            Row("job-2", "m00000.1", ExecutionStatus.Success, at, ExecutionOutcome.Succeeded, at),
        ]);
        catalog.UpsertCounters(
        [
            Counter("job-1", "m00000", "map.output.pairs", 10), Counter("job-1", "m00000", "user.words", 3),
            Counter("job-1", "m00001", "map.output.pairs", 5),
            Counter("job-2", "m00000", "map.output.pairs", 1000),
        ]);
        // A replay writes the same row again: still one value per task and name.
        catalog.UpsertCounters([Counter("job-1", "m00001", "map.output.pairs", 5)]);

        var counters = catalog.GetCounters("job-1");
        Assert.Equal(new Dictionary<string, long>
        {
            ["attempts"] = 5, ["attempts.failed"] = 1, ["attempts.lost"] = 1, ["map.output.pairs"] = 15, ["user.words"] = 3,
        }, counters.Totals);
        Assert.Equal(["m00000", "m00001", "r00000"], counters.PerTask.Keys);
        Assert.Equal(new Dictionary<string, long>
        {
            ["attempts"] = 3, ["attempts.failed"] = 1, ["attempts.lost"] = 1, ["map.output.pairs"] = 10, ["user.words"] = 3,
        }, counters.PerTask["m00000"]);
        Assert.Equal(new Dictionary<string, long> { ["attempts"] = 1, ["attempts.failed"] = 0, ["attempts.lost"] = 0 }, counters.PerTask["r00000"]);
        Assert.Equal(new Dictionary<string, long> { ["attempts"] = 0, ["attempts.failed"] = 0, ["attempts.lost"] = 0 }, catalog.GetCounters("job-none").Totals);
    }

    [Fact]
    public void Attempt_rows_store_times_as_linq2db_stores_every_other_time()
    {
        var catalog = NewCatalog();
        var at = new DateTime(2026, 11, 30, 9, 0, 1, 234, DateTimeKind.Utc).AddTicks(5678);
        catalog.UpsertExecutions([Row("job-1", "m00000.1", ExecutionStatus.Running, at, null, at)]);
        catalog.UpsertJob(new JobRow { ExecId = "job-1", CodeId = "c", DirId = "d", Status = ExecutionStatus.Running, SubmittedAt = at });

        using var connection = new SqliteConnection($"Data Source={catalog.Location.SqliteFilePath};Pooling=False");
        connection.Open();
        string Text(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)!;
        }
        var submitted = Text("SELECT submitted_at FROM jobs");
        Assert.Equal(submitted, Text("SELECT updated_at FROM executions"));
        Assert.Equal(submitted, Text("SELECT started_at FROM executions"));
        Assert.Equal(catalog.GetJob("job-1")!.SubmittedAt, Assert.Single(catalog.GetExecutions("job-1")).StartedAt);
    }

    [Fact]
    public void Many_rows_are_written_in_several_statements_and_a_key_given_twice_keeps_its_last_row()
    {
        var catalog = NewCatalog();
        var at = new DateTime(2026, 11, 30, 9, 0, 0, DateTimeKind.Utc);
        var started = Enumerable.Range(0, 120).Select(i => Row("job-1", $"m{i:D5}.1", ExecutionStatus.Running, at, null, at)).ToList();
        catalog.UpsertExecutions(started);
        catalog.UpsertExecutions([.. started.Take(60).Select(r => Row("job-1", r.AttemptId, ExecutionStatus.Success, null, ExecutionOutcome.Succeeded, at.AddSeconds(1))),
            Row("job-1", "m00000.1", ExecutionStatus.Failure, null, ExecutionOutcome.Failed, at.AddSeconds(2))]);
        catalog.UpsertCounters([.. Enumerable.Range(0, 120).Select(i => Counter("job-1", $"m{i:D5}", "map.output.pairs", i)), Counter("job-1", "m00001", "map.output.pairs", 1000)]);

        var rows = catalog.GetExecutions("job-1").ToDictionary(r => r.AttemptId);
        Assert.Equal(120, rows.Count);
        Assert.Equal((ExecutionStatus.Failure, (DateTime?)at), (rows["m00000.1"].Status, rows["m00000.1"].StartedAt));
        Assert.Equal(59, rows.Values.Count(r => r.Status == ExecutionStatus.Success));
        Assert.Equal(60, rows.Values.Count(r => r.Status == ExecutionStatus.Running));
        Assert.All(rows.Values, r => Assert.Equal(at, r.StartedAt));
        Assert.Equal(Enumerable.Range(0, 120).Sum() - 1 + 1000, catalog.GetCounters("job-1").Totals["map.output.pairs"]);
    }

    private CatalogStore NewCatalog()
    {
        var catalog = new CatalogStore(SqlLocation.SqliteFile(_folder.File("catalog.db")));
        catalog.EnsureCreated();
        return catalog;
    }

    private static ExecutionRow Row(string job, string attempt, string status, DateTime? startedAt, string? outcome, DateTime updatedAt) => new()
    {
        ExecId = job, AttemptId = attempt, TaskId = attempt[..attempt.IndexOf('.')], ExecType = attempt[0] == 'm' ? ExecutionType.Map : ExecutionType.Reduce,
        Status = status, StartedAt = startedAt, Outcome = outcome, UpdatedAt = updatedAt,
    };

    private static TaskCounterRow Counter(string job, string task, string name, long value) =>
        new() { ExecId = job, TaskId = task, Name = name, Value = value };
}
