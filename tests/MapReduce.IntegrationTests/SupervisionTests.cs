using System.Diagnostics;
using System.Text.RegularExpressions;
using MapReduce.Node;

namespace MapReduce.IntegrationTests;

/// <summary>
/// `MapReduce.Node local` restarts a node whose process died. Its own cluster, not the shared
/// <see cref="RunningCluster"/> fixture of other classes: a killed worker would disturb their jobs.
/// </summary>
[RunsAbout(120)]
public sealed class SupervisionTests : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private static string ReadShared(string file)
    {
        using var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd();
    }

    private static int Occurrences(string text, string value) => Regex.Matches(text, Regex.Escape(value)).Count;

    /// <summary>
    /// A local cluster whose task timeout is short, for the hung Map and script of these tests (every
    /// other task here takes well under a second), and whose restart back-off stays short: each test
    /// makes its workers exit six times or more within a minute, which the default back-off would
    /// space out to 30 s.
    /// </summary>
    internal static RunningCluster ShortTimeoutCluster() => RunningCluster.WithHocon("""
        mapreduce.task-timeout = 5s
        mapreduce.cancel-grace = 1s
        mapreduce.local.restart-backoff.max = 2s
        """);

    private Task AssertWordCountAsync(RunningCluster cluster) => AssertWordCountAsync(cluster, _work);

    /// <summary>Word count on the sample books through the cluster gives the independent answer.</summary>
    internal static async Task AssertWordCountAsync(RunningCluster cluster, string work)
    {
        var output = Path.Combine(work, "count");
        var job = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output,
            "--reducers", "2", "--cluster", cluster.Api, "--store", cluster.Store);
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 2));
    }

    /// <summary>Submits a job whose Map body is <paramref name="mapBody"/> and expects it to fail (exit code 1).</summary>
    private async Task<CliResult> SubmitFailingAsync(RunningCluster cluster, string name, string mapBody)
    {
        var code = Directory.CreateDirectory(Path.Combine(_work, name)).FullName;
        await File.WriteAllTextAsync(Path.Combine(code, "task.csx"),
            $"IEnumerable<(string, int)> Map(string docId, string chunk) {{ {mapBody} }}\n" +
            "int Reduce(string key, IEnumerable<int> values) => values.Sum();\n");
        var result = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", code, "-o", Path.Combine(_work, name + "-out"),
            "--cluster", cluster.Api, "--store", cluster.Store);
        Assert.True(result.ExitCode == 1, result.ToString());
        return result;
    }

    [Fact]
    public async Task A_killed_worker_is_restarted_under_its_name_rejoins_and_a_job_then_succeeds_and_a_map_that_always_exits_or_hangs_fails_its_job_with_the_reason()
    {
        var cluster = ShortTimeoutCluster();
        var exitsBeforeStop = 0;
        try
        {
            await cluster.InitializeAsync();
            var workers = Cli.NodeProcessesUsing(cluster.Store, "worker");
            Assert.Equal(2, workers.Count);
            var killed = workers[0];
            using (var victim = Process.GetProcessById(killed)) victim.Kill(); // SIGKILL

            // Local mode reports the death at once and restarts the worker 1 s later.
            var restartLine = new Regex(@"^(worker-\d) exited with code 137; restarting it in 1 s \(restart 1\)$", RegexOptions.Multiline);
            await Cli.EventuallyAsync(() => restartLine.IsMatch(cluster.Output), TimeSpan.FromSeconds(30),
                $"no restart line from the local cluster:\n{cluster.Output}");
            var line = restartLine.Match(cluster.Output);
            var name = line.Groups[1].Value;
            var log = Path.Combine(cluster.Store, "logs", $"{name}.log");
            // The same log, appended to: the restart line, then the new process joining.
            await Cli.EventuallyAsync(() => Occurrences(ReadShared(log), NodeHost.ReadyLine) == 2, TimeSpan.FromSeconds(90),
                $"{name} did not join again:\n{ReadShared(log)}");
            var text = ReadShared(log);
            var restartAt = text.IndexOf(line.Value, StringComparison.Ordinal);
            Assert.True(restartAt >= 0, $"no restart line in {log}:\n{text}");
            Assert.True(text.LastIndexOf(NodeHost.ReadyLine, StringComparison.Ordinal) > restartAt, text);
            var now = Cli.NodeProcessesUsing(cluster.Store, "worker");
            Assert.Equal(2, now.Count);
            Assert.DoesNotContain(killed, now);
            Assert.Contains(workers[1], now);

            await AssertWordCountAsync(cluster);

            // Poison: every Map call exits its worker process. Each exit counts against the task whose
            // code called it; the third fails the job with that reason, and the restarted workers run the next job.
            var watch = Stopwatch.StartNew();
            var failed = await SubmitFailingAsync(cluster, "poison", "Environment.Exit(3); yield break;");
            Assert.True(Regex.IsMatch(failed.Error.Trim(), @"^error: job job-\S+ failed: map task (m\d{5}) \(document 'pg-[a-z_]+\.txt', chunk 0\) failed 3 times; last error: worker process exited with code 3 while running map \1$"),
                failed.ToString());
            Console.WriteLine($"the poison job failed {watch.Elapsed.TotalSeconds:0.0} s after it was submitted");
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(2), $"the poison job took {watch.Elapsed.TotalSeconds:0} s to fail");

            await AssertWordCountAsync(cluster);

            // Hung: a Map that never returns (nor checks for cancellation). Past task-timeout the
            // master stops the attempt; its worker cannot, so after cancel-grace it exits (code 75)
            // and is restarted. Three timeouts fail the job, and the next job runs normally.
            watch.Restart();
            var timedOut = await SubmitFailingAsync(cluster, "hung", "while (true) System.Threading.Thread.Sleep(100);");
            Assert.True(Regex.IsMatch(timedOut.Error.Trim(), @"^error: job job-\S+ failed: map task m\d{5} \(document 'pg-[a-z_]+\.txt', chunk 0\) failed 3 times; last error: timed out after 5 s on akka\.tcp://\S+$"),
                timedOut.ToString());
            Console.WriteLine($"the hung job failed {watch.Elapsed.TotalSeconds:0.0} s after it was submitted");
            Assert.Contains("exited with code 75", cluster.Output);

            await AssertWordCountAsync(cluster);
            exitsBeforeStop = Regex.Matches(cluster.Output, "exited with code").Count;
        }
        finally
        {
            // Stops the cluster and fails if any node process, the restarted one included, is left.
            await cluster.DisposeAsync();
        }
        // Nothing was restarted while the cluster stopped: no exit was reported after the jobs.
        Assert.Equal(exitsBeforeStop, Regex.Matches(cluster.Output, "exited with code").Count);
    }
}
