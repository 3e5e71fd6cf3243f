using MapReduce.Storage.Catalog;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// The kvstore SIGKILLed mid-map and started again on the same folder 30 s later, with another node
/// among its seeds (as hocon/cluster.hocon lists a master): it rejoins the running cluster, the
/// attempts that wanted it meanwhile wait for it (longer than a lookup waits: the nodes are given
/// mapreduce.kvstore.locate-timeout = 10s, so the test need not outwait the default 60 s), the job
/// waits (the CLI says so once, and once when it is back) and finishes with the exact output, each
/// task counted once. Alone: what it checks hangs on when the maps' lookups run out against when the
/// kvstore returns, which a machine busy with other clusters shifts (two attempts once failed).
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class KvStoreRestartTests(ITestOutputHelper log)
{
    /// <summary>The nodes' mapreduce.kvstore.locate-timeout: the kvstore stays down three times as long.</summary>
    private static readonly TimeSpan LocateTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Down = TimeSpan.FromSeconds(30);

    /// <summary>A node's log while the node may still write it.</summary>
    private static string ReadShared(string path)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        return reader.ReadToEnd();
    }

    [Fact]
    public async Task The_kvstore_killed_mid_map_and_restarted_on_its_folder_30_s_later_rejoins_the_job_waits_for_it_saying_so_and_finishes_exactly()
    {
        await using var cluster = await FailureCluster.StartAsync(workers: 2, config: work =>
        {
            var file = Path.Combine(work, "short-lookup.hocon");
            File.WriteAllText(file, $"mapreduce.kvstore.locate-timeout = {LocateTimeout.TotalSeconds:0}s");
            return file;
        });
        var output = Path.Combine(cluster.Work, "out");
        var submit = Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", cluster.GatedWordCount(), "-o", output, "--cluster", cluster.Api,
            "--block-size", "131072", "--reducers", "4");
        await cluster.WaitRunningAsync("map", 4, TimeSpan.FromSeconds(90));
        cluster.Kill("kvstore");
        var killed = DateTime.UtcNow;
        await cluster.Node("kvstore").Process.WaitForExitAsync();
        // The master notices (the job's row says what it waits for), then the kvstore is removed from the cluster.
        await Cli.EventuallyAsync(() => cluster.Catalog.GetJob(cluster.Catalog.ListJobs()[^1].ExecId)!.WaitingFor is not null, TimeSpan.FromSeconds(30),
            "the master did not say that the job waits for the kvstore");
        await Task.Delay(TimeSpan.FromSeconds(6));
        // The running maps finish while no kvstore is in the cluster: storing their runs waits for one,
        // past the 10 s a lookup of the kvstore waits (opened ~8 s after the kill: lookups fail from
        // ~18 s on, and are waited out for 12 s more), instead of failing the attempts.
        cluster.Open("map");
        await Task.Delay(killed + Down - DateTime.UtcNow);
        await cluster.RestartKvStoreAsync();
        cluster.Open("reduce");

        var result = await submit;
        log.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        // The CLI said what the job waited for when the master noticed, and when it was back: once each, in that order.
        var lines = result.Output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var waiting = lines.FindAll(l => l.StartsWith("waiting for", StringComparison.Ordinal));
        var back = lines.FindAll(l => l.Contains(" is back after ", StringComparison.Ordinal));
        Assert.Single(waiting);
        // SIGKILL leaves its port refusing connections: the dead-peer probe downs it at once ("not in the cluster"),
        // unless the master saw the member unreachable first ("unreachable"); either is the first and only wait line.
        Assert.Matches(@"^waiting for the kvstore: (unreachable|not in the cluster) since \d\d:\d\d:\d\d \(tasks resume when it is back\)$", waiting[0]);
        Assert.Single(back);
        var after = Regex.Match(back[0], @"^kvstore is back after (\d+) s$");
        Assert.True(after.Success, back[0]);
        Assert.InRange(int.Parse(after.Groups[1].Value), 25, 150); // down 30 s and a restart, noticed 2-3 s after the kill
        Assert.True(lines.IndexOf(waiting[0]) < lines.IndexOf(back[0]) && lines.IndexOf(back[0]) < lines.FindIndex(l => l.Contains(" succeeded: ")),
            result.Output);
        var expected = Oracle.WordCount(Cli.Samples("data"));
        Assert.Equal(expected, Oracle.ReadParts(output, 4));
        // The maps' lookups of the kvstore ran out (mapreduce.kvstore.locate-timeout) while it was away,
        // and the workers waited on instead of failing the attempts.
        var workerLogs = string.Concat(new[] { "worker-1", "worker-2" }.Select(n => ReadShared(cluster.Node(n).LogFile)));
        Assert.Contains($"no kvstore node is up in the cluster after {LocateTimeout.TotalSeconds:0} s; waiting for the kvstore", workerLogs);

        var jobId = result.SucceededJob;
        await Cli.EventuallyAsync(() => cluster.Catalog.GetJob(jobId)!.Status == "success" && cluster.Catalog.GetCounters(jobId).Totals.ContainsKey("reduce.output.pairs"),
            TimeSpan.FromSeconds(10), "the job's counters did not reach the catalog");
        var job = cluster.Catalog.GetJob(jobId)!;
        Assert.Null(job.WaitingFor); // an ended job waits for nothing
        var totals = cluster.Catalog.GetCounters(jobId).Totals;
        log.WriteLine(string.Join(", ", totals.Select(t => $"{t.Key}={t.Value}")));
        Assert.Equal(Directory.GetFiles(Cli.Samples("data")).Sum(f => new FileInfo(f).Length), totals["map.input.bytes"]);
        Assert.Equal(expected.Count, totals["reduce.output.pairs"]);
        Assert.Equal(expected.Count, totals["reduce.groups"]);
        Assert.Equal(Directory.GetFiles(output, "part-*").Sum(f => new FileInfo(f).Length), totals["reduce.output.bytes"]);
        // Nothing ran twice but backups for stragglers: every other attempt handed out was accepted.
        Assert.Equal(0, totals.GetValueOrDefault("attempts.failed"));
        Assert.Equal(0, totals.GetValueOrDefault("attempts.lost"));
        Assert.Equal(job.MapTasks + job.Reducers + totals.GetValueOrDefault(AttemptCounters.BackupsLaunched), totals["attempts"]);
    }
}
