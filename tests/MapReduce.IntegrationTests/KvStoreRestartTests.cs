using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// The kvstore SIGKILLed mid-map and started again on the same folder, with another node among its
/// seeds (as hocon/cluster.hocon lists a master): it rejoins the running cluster, the attempts
/// that wanted it wait for it, and the job finishes with the exact output, each task counted once.
/// </summary>
public sealed class KvStoreRestartTests(ITestOutputHelper log)
{
    [Fact]
    public async Task The_kvstore_killed_mid_map_and_restarted_on_its_folder_rejoins_and_the_job_finishes_exactly()
    {
        await using var cluster = await FailureCluster.StartAsync(workers: 2);
        var output = Path.Combine(cluster.Work, "out");
        var submit = Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", cluster.GatedWordCount(), "-o", output, "--cluster", cluster.Api,
            "--block-size", "131072", "--reducers", "4");
        await cluster.WaitRunningAsync("map", 4, TimeSpan.FromSeconds(90));
        cluster.Kill("kvstore");
        await cluster.Node("kvstore").Process.WaitForExitAsync();
        // The running maps finish while no kvstore is up: their results wait for one.
        cluster.Open("map");
        await Task.Delay(TimeSpan.FromSeconds(4));
        await cluster.RestartKvStoreAsync();
        cluster.Open("reduce");

        var result = await submit;
        log.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        var expected = Oracle.WordCount(Cli.Samples("data"));
        Assert.Equal(expected, Oracle.ReadParts(output, 4));

        var jobId = Regex.Match(result.Output, @"job (job-\S+) succeeded").Groups[1].Value;
        await Cli.EventuallyAsync(() => cluster.Catalog.GetJob(jobId)!.Status == "success" && cluster.Catalog.GetCounters(jobId).Totals.ContainsKey("reduce.output.pairs"),
            TimeSpan.FromSeconds(10), "the job's counters did not reach the catalog");
        var job = cluster.Catalog.GetJob(jobId)!;
        var totals = cluster.Catalog.GetCounters(jobId).Totals;
        log.WriteLine(string.Join(", ", totals.Select(t => $"{t.Key}={t.Value}")));
        Assert.Equal(Directory.GetFiles(Cli.Samples("data")).Sum(f => new FileInfo(f).Length), totals["map.input.bytes"]);
        Assert.Equal(expected.Count, totals["reduce.output.pairs"]);
        Assert.Equal(expected.Count, totals["reduce.groups"]);
        Assert.Equal(Directory.GetFiles(output, "part-*").Sum(f => new FileInfo(f).Length), totals["reduce.output.bytes"]);
        // Nothing ran twice: every attempt handed out was accepted.
        Assert.Equal(0, totals.GetValueOrDefault("attempts.failed"));
        Assert.Equal(0, totals.GetValueOrDefault("attempts.lost"));
        Assert.Equal(job.MapTasks + job.Reducers, totals["attempts"]);
    }
}
