using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// The cluster on separate hosts (network namespaces, <see cref="HostedCluster"/>): the kvstore,
/// two masters and three workers each on a host of its own, the CLI on a fourth address. One
/// cluster takes three disruptions in turn, each during a job of its own, and every job ends with
/// exactly the word count computed here and no task counted twice.
/// </summary>
[RunsAbout(48)]
public sealed class SeparateHostsTests(ITestOutputHelper log)
{
    private static readonly string Data = Cli.Samples("data");
    private static readonly SortedSet<string> Expected = Oracle.WordCount(Data);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [RequiresFact(typeof(HostedCluster))]
    public async Task Word_count_across_hosts_survives_a_worker_host_killed_a_worker_host_cut_off_and_the_master_host_killed()
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = await HostedCluster.StartAsync();
        log.WriteLine($"{clock.Elapsed.TotalSeconds:0} s: 6 nodes up on 6 hosts");
        var view = await cluster.ViewAsync("master-1");
        Assert.Equal(["kvstore", "master-1", "master-2", "worker-1", "worker-2", "worker-3"], view.Members.Select(m => cluster.HostOf(m.Address)).Order());
        Assert.Equal("master-1", cluster.HostOf(view.Master!));
        var catalog = new CatalogStore(SqlLocation.Parse(cluster.Catalog));

        // 1. Every process of a worker's host killed mid-map; the host comes back (its node started again).
        var first = await RunJobAsync(cluster, catalog, "killed-worker-host", async () =>
        {
            await NetworkHosts.KillAllAsync(cluster.Hosts["worker-1"], TimeSpan.FromSeconds(20));
            await WaitMembersAsync(cluster, "master-1", 5);
        });
        await cluster.StartNodeAsync("worker-1");
        log.WriteLine($"{clock.Elapsed.TotalSeconds:0} s: job 1 exact; worker-1's host back");

        // 2. A worker's host cut off the network mid-map. The majority downs it; on its side of the
        // split it is alone, so its own split-brain resolver downs it too and its node process ends
        // by itself (exit code 69, so that a supervisor starts it again): when the link comes back
        // nothing of the old node returns. Started again, it joins as a new node.
        var cutOff = cluster.Node("worker-2");
        var cutOffAddress = view.Members.Single(m => cluster.HostOf(m.Address) == "worker-2").Address;
        await RunJobAsync(cluster, catalog, "cut-off-worker-host", async () =>
        {
            await NetworkHosts.CutAsync(cluster.Hosts["worker-2"]);
            var cut = Stopwatch.StartNew();
            await WaitMembersAsync(cluster, "master-1", 5);
            log.WriteLine($"the cut-off worker removed by the majority {cut.Elapsed.TotalSeconds:0.0} s after the cut");
            using var exit = new CancellationTokenSource(Patience);
            await cutOff.Process.WaitForExitAsync(exit.Token);
            log.WriteLine($"the cut-off worker's process exited with {cutOff.Process.ExitCode} {cut.Elapsed.TotalSeconds:0.0} s after the cut");
            Assert.Equal(MapReduce.Node.NodeHost.DownedExitCode, cutOff.Process.ExitCode);
            await NetworkHosts.ReconnectAsync(cluster.Hosts["worker-2"]);
        }, lost: 2);
        Assert.Empty(await NetworkHosts.PidsAsync(cluster.Hosts["worker-2"]));
        Assert.DoesNotContain((await cluster.ViewAsync("master-1")).Members, m => m.Address == cutOffAddress);
        Assert.Contains("SBR took decision Akka.Cluster.SBR.DownReachable and is downing [" + cutOffAddress, cutOff.Log());
        Assert.Contains($"error: node {cutOffAddress} was downed by the cluster (cut off, or silent too long); exiting with code 69 so that its supervisor starts it again", cutOff.Log());
        await cluster.StartNodeAsync("worker-2");
        await WaitMembersAsync(cluster, "master-1", 6);
        log.WriteLine($"{clock.Elapsed.TotalSeconds:0} s: job 2 exact; worker-2 rejoined as a new node");

        // 3. The host of the active master killed mid-map: the singleton moves to master-2, and the
        // CLI, which has both masters' URLs from the config file, follows it.
        await RunJobAsync(cluster, catalog, "killed-master-host", async () =>
        {
            await NetworkHosts.KillAllAsync(cluster.Hosts["master-1"], TimeSpan.FromSeconds(20));
            await Cli.EventuallyAsync(() => cluster.Node("master-2").Log().Contains("job master recovered"), Patience, "master-2 did not take over the job master");
        }, lost: null);
        log.WriteLine($"{clock.Elapsed.TotalSeconds:0} s: job 3 exact; the singleton on master-2");

        // The read-only commands go through the cluster too, now through master-2 alone.
        var jobs = await cluster.CliAsync("jobs");
        Assert.True(jobs.ExitCode == 0, jobs.ToString());
        Assert.Equal(3, Regex.Matches(jobs.Output, @"^job-\S+\s+succeeded", RegexOptions.Multiline).Count);
        var download = Path.Combine(cluster.Work, "downloaded");
        var downloaded = await cluster.CliAsync("download", first.JobId, "-o", download);
        Assert.True(downloaded.ExitCode == 0, downloaded.ToString());
        Assert.Equal(Expected, Oracle.ReadParts(download, 4));
        var datasets = await cluster.CliAsync("datasets");
        Assert.True(datasets.ExitCode == 0, datasets.ToString());
        Assert.Contains("result-" + first.JobId, datasets.Output);
        var logs = await cluster.CliAsync("logs", first.JobId, "--task", "m00000");
        Assert.True(logs.ExitCode == 0, logs.ToString());
        Assert.Contains("mapped pg-being_ernest.txt", logs.Output);
        // Blob bytes went over the network: no host wrote into the kvstore's folder itself.
        foreach (var worker in HostedCluster.Workers)
        {
            Assert.Contains("blob bytes go over the kvstore's data channel", cluster.Node(worker).Log());
            Assert.DoesNotContain("(short circuit)", cluster.Node(worker).Log());
        }
        log.WriteLine($"{clock.Elapsed.TotalSeconds:0} s: done");
    }

    private sealed record JobRun(string JobId, IReadOnlyDictionary<string, long> Counters);

    /// <summary>
    /// Runs a gated word count from the client host, waits until every worker slot holds a map, runs
    /// <paramref name="disrupt"/>, opens the gates, and checks the output against the oracle and the
    /// job's counters (each task counted once). <paramref name="lost"/>: the attempts the disruption
    /// must have cost, or null when it may vary (a master take-over adopts running attempts).
    /// </summary>
    private async Task<JobRun> RunJobAsync(HostedCluster cluster, CatalogStore catalog, string name, Func<Task> disrupt, int? lost = 2)
    {
        var folder = Directory.CreateDirectory(Path.Combine(cluster.Work, name)).FullName;
        var gates = Directory.CreateDirectory(Path.Combine(folder, "gates")).FullName;
        var output = Path.Combine(folder, "out");
        var jobsBefore = catalog.ListJobs().Count;
        var submit = cluster.CliAsync("-d", Data, "-c", GatedWordCount(folder, gates), "-o", output, "--block-size", "131072", "--reducers", "4");

        // Every slot (3 workers, 2 each) holds a map waiting at its gate.
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var jobs = catalog.ListJobs();
            if (jobs.Count > jobsBefore && catalog.GetExecutions(jobs[^1].ExecId).Count(e => e.ExecType == "map" && e.Status == ExecutionStatus.Running) >= 6) break;
            if (submit.IsCompleted) Assert.Fail($"the job ended before its maps ran: {await submit}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{name}: fewer than 6 maps running after {Patience}");
            await Task.Delay(100);
        }
        await disrupt();
        File.WriteAllText(Path.Combine(gates, "map"), "");
        File.WriteAllText(Path.Combine(gates, "reduce"), "");

        var result = await submit;
        log.WriteLine($"{name}: {result}");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Expected, Oracle.ReadParts(output, 4));
        var submitted = Regex.Match(result.Output, @"submitted job (\S+): (\d+) map tasks, 4 reduce tasks");
        Assert.True(submitted.Success, result.Output);
        var (jobId, maps) = (submitted.Groups[1].Value, int.Parse(submitted.Groups[2].Value));

        // Counted once per task: the accepted attempt of each, whatever was lost on the way.
        var status = await cluster.CliAsync("status", jobId, "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        var counters = ReadCounters(status.Output);
        Assert.Equal(Directory.GetFiles(Data).Sum(f => new FileInfo(f).Length), counters["map.input.bytes"]);
        Assert.Equal(Expected.Count, counters["reduce.groups"]);
        Assert.Equal(Expected.Count, counters["reduce.output.pairs"]);
        Assert.Equal(Directory.GetFiles(output, "part-*").Sum(f => new FileInfo(f).Length), counters["reduce.output.bytes"]);
        Assert.Equal(0, counters["attempts.failed"]);
        if (lost is { } count) Assert.Equal(count, counters["attempts.lost"]);
        // Backups for stragglers (a loaded machine makes some) are attempts too.
        Assert.Equal(maps + 4 + counters["attempts.lost"] + counters.GetValueOrDefault(AttemptCounters.BackupsLaunched), counters["attempts"]);
        return new JobRun(jobId, counters);
    }

    private static Dictionary<string, long> ReadCounters(string json)
    {
        using var document = JsonDocument.Parse(json);
        var counters = document.RootElement.EnumerateObject().Single(p => p.Name.Equals("counters", StringComparison.OrdinalIgnoreCase)).Value;
        return counters.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
    }

    /// <summary>Waits until a master's view of the cluster has exactly <paramref name="count"/> members, all Up and reachable.</summary>
    private static async Task WaitMembersAsync(HostedCluster cluster, string master, int count)
    {
        ClusterView? view = null;
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            view = await cluster.ViewAsync(master);
            if (view.Members.Length == count && view.Members.All(m => m.Status.Equals("up", StringComparison.OrdinalIgnoreCase) && m.Reachable)) return;
            await Task.Delay(200);
        }
        Assert.Fail($"{master} did not see {count} members up within {Patience}: {string.Join(", ", view?.Members.Select(m => $"{m.Address} {m.Status} reachable={m.Reachable}") ?? [])}");
    }

    /// <summary>Word count whose Map and Reduce wait for the test to open their gate; Map logs the document it maps.</summary>
    private static string GatedWordCount(string folder, string gates)
    {
        var code = Directory.CreateDirectory(Path.Combine(folder, "code")).FullName;
        File.WriteAllText(Path.Combine(code, "task.csx"), $$"""
            using System.Threading;
            static readonly string Gates = @"{{gates}}";
            static void Wait(string gate) { while (!File.Exists(Path.Combine(Gates, gate))) Thread.Sleep(50); }

            IEnumerable<(string, int)> Map(string docId, string chunk)
            {
                Console.WriteLine("mapped " + docId);
                Wait("map");
                foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(chunk, @"\p{L}+"))
                    yield return (m.Value, 1);
            }

            int Reduce(string word, IEnumerable<int> counts)
            {
                Wait("reduce");
                return counts.Sum();
            }
            """);
        return code;
    }
}
