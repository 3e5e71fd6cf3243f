using System.Text.RegularExpressions;
using MapReduce.Actors.Protocol;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// The catalog and the master's journal on a real PostgreSQL server, as a cluster of several
/// machines keeps them: a job whose master is killed mid-map still finishes exactly, recovered
/// from the journal in PostgreSQL, and its records are there, not in SQLite files.
/// </summary>
[RunsAbout(17)]
public sealed class PostgresTests(ITestOutputHelper log)
{
    [RequiresFact(typeof(PostgresServer))]
    public async Task On_PostgreSQL_a_master_killed_mid_map_recovers_from_the_journal_and_the_catalog_holds_the_job()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var catalog = await postgres.CreateDatabaseAsync("mapreduce_catalog");
        var journal = await postgres.CreateDatabaseAsync("mapreduce_journal");
        await using var cluster = await FailureCluster.StartAsync(workers: 2, catalog, journal);
        var output = Path.Combine(cluster.Work, "out");

        var submit = Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", cluster.GatedWordCount(), "-o", output, "--cluster", cluster.Api,
            "--block-size", "131072", "--reducers", "4");
        await cluster.WaitRunningAsync("map", 4, TimeSpan.FromSeconds(90));
        cluster.Kill("master-1");
        await cluster.WaitMasterRecoveredAsync("master-2", TimeSpan.FromSeconds(60));
        cluster.Open("map");
        cluster.Open("reduce");
        var result = await submit;
        log.WriteLine(result.ToString());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 4));
        var submitted = Regex.Match(result.Output, @"submitted job (\S+): (\d+) map tasks, 4 reduce tasks");
        Assert.True(submitted.Success, result.Output);
        var (execId, maps) = (submitted.Groups[1].Value, submitted.Groups[2].Value);

        Assert.Equal(["success"], await PostgresServer.QueryAsync(catalog, $"SELECT status FROM jobs WHERE exec_id = '{execId}'"));
        Assert.Equal([maps], await PostgresServer.QueryAsync(catalog,
            $"SELECT COUNT(DISTINCT task_id) FROM executions WHERE exec_id = '{execId}' AND exec_type = 'map' AND status = 'success'"));
        Assert.Equal(["4"], await PostgresServer.QueryAsync(catalog,
            $"SELECT COUNT(DISTINCT task_id) FROM executions WHERE exec_id = '{execId}' AND exec_type = 'reduce' AND status = 'success'"));
        var events = int.Parse((await PostgresServer.QueryAsync(journal, "SELECT COUNT(*) FROM journal")).Single());
        Assert.True(events > int.Parse(maps), $"{events} journal events for {maps} map tasks");
        Assert.False(File.Exists(Path.Combine(cluster.Store, "catalog.db")));
        Assert.False(File.Exists(Path.Combine(cluster.Store, "journal.db")));
    }

    /// <summary>A catalog a version before counters created on PostgreSQL gets the counters table and the executions' new columns.</summary>
    [RequiresFact(typeof(PostgresServer))]
    public async Task On_PostgreSQL_an_old_catalog_is_upgraded_and_keeps_start_times_and_counters()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var location = await postgres.CreateDatabaseAsync("mapreduce_old_catalog");
        await PostgresServer.QueryAsync(location, """
            CREATE TABLE executions (exec_id text NOT NULL, attempt_id text NOT NULL, task_id text NOT NULL, exec_type text NOT NULL,
                chunk_id text NULL, "partition" integer NULL, status text NOT NULL, result_doc_id text NULL, worker text NULL, error text NULL,
                updated_at timestamp NOT NULL, CONSTRAINT "PK_executions" PRIMARY KEY (exec_id, attempt_id));
            INSERT INTO executions (exec_id, attempt_id, task_id, exec_type, status, error, updated_at)
                VALUES ('job-old', 'm00000.1', 'm00000', 'map', 'failure', 'boom', '2026-11-30 08:00:00');
            """);

        var catalog = new MapReduce.Storage.Catalog.CatalogStore(MapReduce.Storage.Catalog.SqlLocation.Parse(location));
        catalog.EnsureCreated();
        catalog.EnsureCreated();

        Assert.Equal(["outcome text", "started_at timestamp without time zone"], await PostgresServer.QueryAsync(location,
            "SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_name = 'executions' AND column_name IN ('started_at', 'outcome') ORDER BY 1"));
        var started = new DateTime(2026, 11, 30, 9, 0, 0, DateTimeKind.Utc);
        catalog.UpsertExecutions([new() { ExecId = "job-1", AttemptId = "m00000.1", TaskId = "m00000", Status = "running", StartedAt = started, UpdatedAt = started }]);
        catalog.UpsertExecutions([new() { ExecId = "job-1", AttemptId = "m00000.1", TaskId = "m00000", Status = "success", Outcome = "succeeded", UpdatedAt = started.AddSeconds(3) }]);
        catalog.UpsertCounters([new() { ExecId = "job-1", TaskId = "m00000", Name = "user.words", Value = 7 }]);
        Assert.Equal(started, catalog.GetExecutions("job-1").Single().StartedAt);
        Assert.Equal(new Dictionary<string, long> { ["attempts"] = 1, ["attempts.failed"] = 0, ["attempts.lost"] = 0, ["user.words"] = 7 }, catalog.GetCounters("job-1").Totals);
        Assert.Equal(1, catalog.GetCounters("job-old").Totals["attempts.failed"]);
    }
}
