using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>A job's life on a standing cluster through the CLI: detach, jobs, status, watch, download, cancel, Ctrl+C.</summary>
[Collection(StandingCluster.Name)]
public sealed class JobLifecycleTests(RunningCluster cluster, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private string[] OnCluster(params string[] args) => [.. args, "--cluster", cluster.Api];

    /// <summary>A Map that never ends: it emits slowly, so a stop request is seen within milliseconds (checked every 1,024 pairs).</summary>
    private string EndlessScript()
    {
        var code = Directory.CreateDirectory(Path.Combine(_work, "endless")).FullName;
        File.WriteAllText(Path.Combine(code, "task.csx"), """
            IEnumerable<(string, int)> Map(string docId, string chunk)
            {
                for (var i = 0; ; i++)
                {
                    if (i % 1024 == 0) System.Threading.Thread.Sleep(20);
                    yield return ("k" + (i % 10), 1);
                }
            }
            int Combine(string key, IEnumerable<int> values) => values.Sum();
            int Reduce(string key, IEnumerable<int> values) => values.Sum();
            """);
        return code;
    }

    [Fact]
    public async Task A_detached_job_is_listed_watched_to_its_end_shown_and_downloaded()
    {
        var detached = await Cli.SubmitAsync(OnCluster("--detach", "--json", "-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount")));
        Assert.True(detached.ExitCode == 0, detached.ToString());
        using var submitted = JsonDocument.Parse(detached.Output);
        var id = submitted.RootElement.GetProperty("jobId").GetString()!;
        Assert.Matches("^job-", id);
        Assert.StartsWith("data-", submitted.RootElement.GetProperty("dataId").GetString());

        var watch = await Cli.SubmitAsync(OnCluster("watch", id));
        Assert.True(watch.ExitCode == 0, watch.ToString());
        Assert.Contains($"job {id} succeeded", watch.Output);
        Assert.Contains("  map 8/8  reduce 4/4", watch.Output);

        var jobs = await Cli.SubmitAsync(OnCluster("jobs"));
        Assert.True(jobs.ExitCode == 0, jobs.ToString());
        Assert.Matches($@"(?m)^{id} +succeeded +map 8/8 reduce 4/4 +\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d +\d+\.\d s +data-\S+ +code-[0-9a-f]{{16}}$", jobs.Output);

        var json = await Cli.SubmitAsync(OnCluster("jobs", "--json"));
        using (var list = JsonDocument.Parse(json.Output))
        {
            var mine = list.RootElement.EnumerateArray().Single(j => j.GetProperty("id").GetString() == id);
            Assert.Equal("succeeded", mine.GetProperty("state").GetString());
            Assert.Equal(8, mine.GetProperty("mapsDone").GetInt32());
        }

        var status = await Cli.SubmitAsync(OnCluster("status", id));
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("state     succeeded", status.Output);
        Assert.Contains($"result    result-{id} (4 parts)", status.Output);
        Assert.Matches(@"map       8 tasks, 8 attempts: succeeded=8", status.Output);

        var output = Path.Combine(_work, "out");
        var download = await Cli.SubmitAsync(OnCluster("download", id, "-o", output));
        Assert.True(download.ExitCode == 0, download.ToString());
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 4));

        var unknown = await Cli.SubmitAsync(OnCluster("status", "job-20260101-000000-000000"));
        Assert.Equal(2, unknown.ExitCode);
        Assert.StartsWith("error: no job 'job-20260101-000000-000000' in cluster at ", unknown.Error.Trim());
    }

    [Fact]
    public async Task A_cancelled_job_stops_on_its_workers_frees_their_slots_and_leaves_no_intermediate_data()
    {
        var detached = await Cli.SubmitAsync(OnCluster("--detach", "-d", Cli.Samples("data"), "-c", EndlessScript()));
        Assert.True(detached.ExitCode == 0, detached.ToString());
        var id = detached.Output.Trim();
        await WaitForAsync(async () => (await Cli.SubmitAsync(OnCluster("status", id))).Output.Contains("running="), "the job's attempts to run");

        var cancel = await Cli.SubmitAsync(OnCluster("cancel", id));
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Equal($"job {id} cancelled: its running attempts are being stopped and its intermediate data deleted", cancel.Output.Trim());

        // Every slot was the endless job's: the next job can run only once they are free.
        var watch = Stopwatch.StartNew();
        var next = await Cli.SubmitAsync(OnCluster("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "next")));
        Assert.True(next.ExitCode == 0, next.ToString());
        log.WriteLine($"the next job took {watch.Elapsed.TotalSeconds:0.0} s after the cancel");
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(Path.Combine(_work, "next"), 4));

        var status = await Cli.SubmitAsync(OnCluster("status", id));
        Assert.Contains("state     cancelled", status.Output);
        Assert.Contains("error     cancelled by a user", status.Output);
        await WaitForAsync(() => Task.FromResult(!Directory.Exists(Path.Combine(cluster.Store, "kvstore", "blobs", "jobs", id))), "the job's intermediate data to be deleted");
        // Stopped cooperatively: no worker had to exit to free its slot.
        Assert.DoesNotContain("exited with code", cluster.Output);

        var again = await Cli.SubmitAsync(OnCluster("cancel", id));
        Assert.Equal(1, again.ExitCode);
        Assert.Equal($"error: job {id} has already been cancelled; only a running job can be cancelled", again.Error.Trim());
        var watched = await Cli.SubmitAsync(OnCluster("watch", id));
        Assert.Equal(4, watched.ExitCode);
    }

    /// <summary>Ctrl+C during an attached submit cancels the job (documented in the README), and says so.</summary>
    [Fact]
    public async Task Ctrl_C_during_an_attached_submit_cancels_the_job()
    {
        using var process = new Process { StartInfo = Cli.StartInfo("MapReduce.Submit", OnCluster("-d", Cli.Samples("data"), "-c", EndlessScript(), "-o", Path.Combine(_work, "never"))) };
        var output = new StringBuilder();
        var error = new StringBuilder();
        var submitted = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
            if (Regex.Match(e.Data, @"^submitted job (\S+):") is { Success: true } m) submitted.TrySetResult(m.Groups[1].Value);
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
        InterruptSignal.StopIgnoring();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string? id = null;
        try
        {
            id = await submitted.Task.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.False(InterruptSignal.IsIgnoredBy(process.Id), "the CLI was started with SIGINT ignored: Ctrl+C could not reach it");
            await Task.Delay(500);
            Cli.Interrupt(process);
            // The CLI gives its action 30 s after Ctrl+C before it exits anyway (exit 130).
            await Task.WhenAny(process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(45)));
            Assert.True(process.HasExited, $"the CLI still runs 45 s after Ctrl+C\n{output}\n{error}");
            Assert.True(process.ExitCode == 4, $"exit {process.ExitCode}\n{output}\n{error}");
            Assert.Contains($"Ctrl+C: cancelling job {id}", error.ToString());
            var status = await Cli.SubmitAsync(OnCluster("status", id));
            Assert.Contains("state     cancelled", status.Output);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            // Whatever happened, the endless job must not keep the shared cluster's slots.
            if (id is not null) await Cli.SubmitAsync(OnCluster("cancel", id));
        }
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"waited 60 s for {what}");
            await Task.Delay(200);
        }
    }
}
