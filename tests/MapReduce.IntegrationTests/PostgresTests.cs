using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// The catalog and the master's journal on a real PostgreSQL server, as a cluster of several
/// machines keeps them: a job whose master is killed mid-map still finishes exactly, recovered
/// from the journal in PostgreSQL, and its records are there, not in SQLite files.
/// </summary>
public sealed class PostgresTests(ITestOutputHelper log)
{
    [SkippableFact]
    public async Task On_PostgreSQL_a_master_killed_mid_map_recovers_from_the_journal_and_the_catalog_holds_the_job()
    {
        Skip.If(PostgresServer.Unavailable is not null, PostgresServer.Unavailable);
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
}
