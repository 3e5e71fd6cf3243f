using System.Net;
using MapReduce.Actors.Hosting;
using MapReduce.Node;
using MapReduce.Storage.Catalog;
using MapReduce.Storage.Identity;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// What a cluster of machines relies on (docs/deploy.md): a master started on a journal of its own
/// is refused when it joins, with what to set, and the cluster goes on; every node answers the
/// health probes on its health port.
/// </summary>
[RunsAbout(29)]
public sealed class DeploymentTests(ITestOutputHelper log)
{
    [Fact]
    public async Task A_master_on_a_journal_of_its_own_is_refused_with_what_to_set_and_the_cluster_keeps_working()
    {
        await using var cluster = await FailureCluster.StartAsync(workers: 1);
        var rogueFolder = Path.Combine(cluster.Store, "rogue");
        var rogueJournal = Path.Combine(rogueFolder, "journal.db");
        await using var rogue = NodeProcessRun.Start("--role", NodeRoles.Master, "--seed", cluster.Seed, "--data-dir", rogueFolder,
            "--catalog", Path.Combine(cluster.Store, "catalog.db"), "--journal", rogueJournal, "--http-port", "0");

        var exitCode = await rogue.ExitCodeAsync(TimeSpan.FromSeconds(120));
        log.WriteLine(rogue.ToString());

        // The ids, read here from the databases themselves.
        var clusterJournal = StoreIdentityTable.ReadOrCreate(SqlLocation.SqliteFile(Path.Combine(cluster.Store, "journal.db")), "").ShortId;
        var ownJournal = StoreIdentityTable.ReadOrCreate(SqlLocation.SqliteFile(rogueJournal), "").ShortId;
        Assert.NotEqual(clusterJournal, ownJournal);
        Assert.Equal(NodeHost.RefusedExitCode, exitCode);
        Assert.Equal(
            [$"error: this master's journal is the SQLite file {rogueJournal} on 127.0.0.1 (id {ownJournal}) but the cluster's masters use " +
             $"the SQLite file {Path.Combine(cluster.Store, "journal.db")} on 127.0.0.1 (id {clusterJournal}): give every master the same --journal (mapreduce.journal)"],
            rogue.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(line => line.StartsWith("error:", StringComparison.Ordinal)).ToArray());
        Assert.Equal(0, JournalEvents(rogueJournal));

        var output = Path.Combine(cluster.Work, "out");
        var result = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--cluster", cluster.Api, "--reducers", "3");
        log.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 3));
    }

    [Fact]
    public async Task Every_node_answers_health_probes_live_once_it_runs_and_ready_once_it_can_work()
    {
        await using var cluster = await FailureCluster.StartAsync(workers: 1);
        var joiningPort = LocalCluster.FreePort();
        await using var worker = NodeProcessRun.Start("--role", NodeRoles.Worker, "--seed", cluster.Seed, "--data-dir", Path.Combine(cluster.Store, "w2"),
            "--health-port", joiningPort.ToString());
        // A worker whose seed does not answer: it runs, but is not a member.
        var loneHealthPort = LocalCluster.FreePort();
        await using var lone = NodeProcessRun.Start("--role", NodeRoles.Worker, "--seed", $"akka.tcp://mapreduce@127.0.0.1:{LocalCluster.FreePort()}",
            "--data-dir", Path.Combine(cluster.Store, "lone"), "--health-port", loneHealthPort.ToString());
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        var ready = await EventuallyAnswersAsync(http, $"http://127.0.0.1:{joiningPort}/readyz", HttpStatusCode.OK, TimeSpan.FromSeconds(120), worker);
        Assert.Equal("ok: up\n", ready);
        Assert.Equal((HttpStatusCode.OK, "ok: up\n"), await GetAsync(http, $"http://127.0.0.1:{joiningPort}/healthz"));
        Assert.Contains($"health: http://127.0.0.1:{joiningPort}/healthz http://127.0.0.1:{joiningPort}/readyz", worker.Output);

        await EventuallyAnswersAsync(http, $"http://127.0.0.1:{loneHealthPort}/healthz", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(120), lone);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "not a cluster member (not joined yet)\n"), await GetAsync(http, $"http://127.0.0.1:{loneHealthPort}/healthz"));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "not ready: this node is not joined yet, not up\n"), await GetAsync(http, $"http://127.0.0.1:{loneHealthPort}/readyz"));
    }

    private static async Task<(HttpStatusCode, string)> GetAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(url);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Polls <paramref name="url"/> until it answers <paramref name="status"/> (the node is starting; its server may not listen yet).</summary>
    private static async Task<string> EventuallyAnswersAsync(HttpClient http, string url, HttpStatusCode status, TimeSpan timeout, NodeProcessRun node)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var (code, body) = await GetAsync(http, url);
                if (code == status) return body;
                last = $"{(int)code} {body}";
            }
            catch (HttpRequestException e) { last = e.Message; }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{url} did not answer {(int)status} within {timeout}; last: {last}\n{node}");
    }

    /// <summary>Events in a SQLite journal (Akka.Persistence.Sql's table "journal"); 0 when the table was never created.</summary>
    private static long JournalEvents(string file)
    {
        using var connection = new SqliteConnection($"Data Source={file}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'journal'";
        if ((long)command.ExecuteScalar()! == 0) return 0;
        command.CommandText = "SELECT COUNT(*) FROM journal";
        return (long)command.ExecuteScalar()!;
    }
}
