using System.Text.RegularExpressions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// The nemesis soak in its CI size: `bench chaos` for 90 s, a fault about every 8 s (SIGKILL or
/// SIGSTOP of random nodes of every role), three clients running word counts meanwhile. Every job
/// must end exact or failed with a reason, and the checker must find no anomaly; the undisturbed
/// answers it compares with are themselves checked against an independent count. Alone: its checker
/// counts a node that exits with no fault injected into it as an anomaly, which other clusters
/// competing for the CPU can cause.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class ChaosSoakTests : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Jobs_under_kills_and_pauses_of_every_role_end_exact_or_with_a_reason_and_nothing_leaks()
    {
        // Up to 8 minutes: the cluster's start, the baselines, 90 s of faults, then up to the 3 minutes the
        // soak itself gives its jobs to end (past that it reports them as anomalies); on a machine busy
        // with other test classes that once took more than 4.
        var result = await Cli.RunAsync("MapReduce.Submit", ["bench", "chaos", "--minutes", "1.5", "--fault-every", "8", "--seed", "7",
            "--dir", _work, "--code", Cli.Samples("wordcount"), "--samples", Cli.Samples("data")], TimeSpan.FromMinutes(8));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("anomalies: 0", result.Output);
        var jobs = Regex.Match(result.Output, @"jobs: (\d+) \((\d+) exact, (\d+) failed with a reason, (\d+) given up by their client, (\d+) wrong\)");
        Assert.True(jobs.Success, result.Output);
        Assert.True(int.Parse(jobs.Groups[2].Value) > 0, result.Output);
        Assert.Equal("0", jobs.Groups[5].Value);
        var faults = Regex.Match(result.Output, @"faults: (\d+) \(");
        Assert.True(faults.Success && int.Parse(faults.Groups[1].Value) >= 5, result.Output);

        // The answers the soak's jobs were held to, against an independent count of each input.
        foreach (var input in new[] { "input-tiny-20000", "input-400000-4", "input-2000000-8" })
            Assert.Equal(Oracle.WordCount(Path.Combine(_work, input)), Oracle.ReadParts(Path.Combine(_work, "chaos-out", $"baseline-{input}"), 2));
        await Cli.AssertNoNodeProcessesLeftAsync(Path.Combine(_work, "chaos-store"));
    }
}
