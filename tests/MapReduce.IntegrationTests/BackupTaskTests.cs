using System.Text.RegularExpressions;
using MapReduce.Actors.Protocol;
using MapReduce.Node;
using MapReduce.Storage.Catalog;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// Backup tasks on a real cluster of two workers, one of them slowed on purpose: its Map sleeps
/// 20 s per call. The job does not wait for it: each of its maps gets a backup on the other worker,
/// the backups win, the slow attempts are stopped. A job without stragglers launches none.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class BackupTaskTests(ITestOutputHelper log)
{
    private static readonly SortedSet<string> Expected = Oracle.WordCount(Cli.Samples("data"));

    /// <summary>Word count whose Map sleeps 20 s per call on worker-2 only (local nodes know their name).</summary>
    private static string SlowOnWorker2(string work)
    {
        var folder = Directory.CreateDirectory(Path.Combine(work, "slow-on-worker-2")).FullName;
        File.WriteAllText(Path.Combine(folder, "task.csx"), $$"""
            using System.Threading;
            using System.Text.RegularExpressions;

            IEnumerable<(string, int)> Map(string docId, string chunk)
            {
                if (Environment.GetEnvironmentVariable("{{LocalCluster.NodeNameVariable}}") == "worker-2") Thread.Sleep(20_000);
                foreach (Match m in Regex.Matches(chunk, @"\p{L}+")) yield return (m.Value, 1);
            }

            int Reduce(string word, IEnumerable<int> counts) => counts.Sum();
            """);
        return folder;
    }

    [Fact]
    public async Task A_job_with_a_slow_worker_finishes_on_backups_and_a_job_without_stragglers_launches_none()
    {
        await using var cluster = await FailureCluster.StartAsync(workers: 2);

        // Without stragglers: no backup, and no backup counters.
        var plainOut = Path.Combine(cluster.Work, "plain");
        var plain = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount-nocombine"), "-o", plainOut, "--cluster", cluster.Api);
        log.WriteLine(plain.ToString());
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.Equal(Expected, Oracle.ReadParts(plainOut, 4));
        var plainJob = plain.SucceededJob;
        await Cli.EventuallyAsync(() => cluster.Catalog.GetCounters(plainJob).Totals.ContainsKey("reduce.output.pairs"), TimeSpan.FromSeconds(10),
            "the plain job's counters did not reach the catalog");
        Assert.False(cluster.Catalog.GetCounters(plainJob).Totals.ContainsKey(AttemptCounters.BackupsLaunched), "a job without stragglers launched a backup");
        Assert.All(cluster.Catalog.GetExecutions(plainJob), e => Assert.Null(e.Backup));

        // worker-2's maps would take 20 s each: backups on worker-1 finish the job first.
        var slowOut = Path.Combine(cluster.Work, "slow");
        var slow = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", SlowOnWorker2(cluster.Work), "-o", slowOut, "--cluster", cluster.Api);
        log.WriteLine(slow.ToString());
        Assert.True(slow.ExitCode == 0, slow.ToString());
        Assert.Equal(Expected, Oracle.ReadParts(slowOut, 4));
        log.WriteLine($"job times: without a slow worker {JobTime(plain.Output)}, with one {JobTime(slow.Output)}");

        var job = slow.SucceededJob;
        await Cli.EventuallyAsync(() => cluster.Catalog.GetCounters(job).Totals.ContainsKey("reduce.output.pairs"), TimeSpan.FromSeconds(10),
            "the counters did not reach the catalog");
        var totals = cluster.Catalog.GetCounters(job).Totals;
        var executions = cluster.Catalog.GetExecutions(job);
        // Every map that ran on worker-2 was still sleeping when its backup finished: stopped, not failed nor lost.
        var stopped = executions.Where(e => e.Outcome == ExecutionOutcome.Stopped).ToList();
        Assert.NotEmpty(stopped);
        Assert.All(stopped, e =>
        {
            Assert.Equal("map", e.ExecType);
            var winner = executions.Single(w => w.TaskId == e.TaskId && w.Status == ExecutionStatus.Success);
            Assert.Equal(1, winner.Backup);
            Assert.Equal($"stopped: attempt {winner.AttemptId} of its task finished first", e.Error);
        });
        Assert.Equal(stopped.Count, totals[AttemptCounters.BackupsLaunched]);
        Assert.Equal(stopped.Count, totals[AttemptCounters.BackupsWon]);
        Assert.Equal(0, totals[AttemptCounters.Failed]);
    }

    private static string JobTime(string output) => Regex.Match(output, @"run and download took (\S+ s)").Groups[1].Value;
}
