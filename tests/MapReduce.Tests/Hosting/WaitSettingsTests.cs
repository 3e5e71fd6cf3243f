using Akka.Configuration;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.UserCode;
using MapReduce.Actors.Worker;
using MapReduce.Submit.Client;

namespace MapReduce.Tests.Hosting;

/// <summary>
/// The waits that were literals in code (the CLI's, local mode's, the control API's, the kvstore's
/// temp sweep, a worker's, the object store's start check): read from the HOCON with the values the
/// code had before they were settings, and refused in one line when they contradict each other.
/// </summary>
public sealed class WaitSettingsTests
{
    private static MapReduceSettings Read(string hocon) =>
        MapReduceSettings.From(ConfigurationFactory.ParseString(hocon).WithFallback(MapReduceSettings.LoadConfig()));

    private static string Refusal(string hocon) => Assert.Throws<ConfigurationException>(() => Read(hocon)).Message;

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    private static TimeSpan M(double minutes) => TimeSpan.FromMinutes(minutes);

    [Fact]
    public void The_defaults_are_the_former_constants()
    {
        var settings = Read("");
        Assert.Equal(new ClientSettings(S(60), S(120), S(10), M(10)), settings.Client);
        Assert.Equal(new ControlApiSettings(S(10), S(90)), settings.ControlApi);
        Assert.Equal(new LocalWaitSettings(M(10), S(90), S(10), S(5)), settings.LocalWaits);
        Assert.Equal(new TempSweepSettings(M(10), TimeSpan.FromHours(1)), settings.TempSweep);
        Assert.Equal(new WorkerWaitSettings(M(2), S(10), M(5)), settings.WorkerWaits);
        Assert.Equal(S(10), settings.BlobStore.StartPatience);
    }

    [Fact]
    public void Each_can_be_set()
    {
        var settings = Read("""
            mapreduce.client { patience = 7s, request-timeout = 100s, final-record-wait = 3s, build-timeout = 2m }
            mapreduce.http { master-timeout = 4s, slow-command-timeout = 70s }
            mapreduce.local { detached-keep = 1h, start-timeout = 45s, stop-grace = 20s, cluster-stop-grace = 8s }
            mapreduce.kvstore { sweep-every = 1m, abandoned-after = 2h }
            mapreduce.worker { code-unload-after = 30s, log-write-timeout = 4s, key-sample-timeout = 1m }
            mapreduce.blob-store.start-patience = 25s
            """);
        Assert.Equal(new ClientSettings(S(7), S(100), S(3), M(2)), settings.Client);
        Assert.Equal(new ControlApiSettings(S(4), S(70)), settings.ControlApi);
        Assert.Equal(new LocalWaitSettings(TimeSpan.FromHours(1), S(45), S(20), S(8)), settings.LocalWaits);
        Assert.Equal(new TempSweepSettings(M(1), TimeSpan.FromHours(2)), settings.TempSweep);
        Assert.Equal(new WorkerWaitSettings(S(30), S(4), M(1)), settings.WorkerWaits);
        Assert.Equal(S(25), settings.BlobStore.StartPatience);
    }

    [Fact]
    public async Task The_clis_waits_reach_its_client_of_the_control_api()
    {
        var defaults = new ClusterApi(["http://127.0.0.1:9/"]);
        Assert.Equal((S(60), S(120)), (defaults.Patience, defaults.RequestTimeout));
        var api = new ClusterApi(["http://127.0.0.1:9/"], waits: Read("mapreduce.client { patience = 1s, request-timeout = 100s }").Client);
        Assert.Equal((S(1), S(100)), (api.Patience, api.RequestTimeout));
        // Nothing listens there: the request fails once the patience has run out, and says for how long it tried.
        var e = await Assert.ThrowsAsync<ApiException>(() => api.ClusterAsync(CancellationToken.None));
        Assert.EndsWith("(tried http://127.0.0.1:9/ for 1 s)", e.Message);
    }

    /// <summary>
    /// The patience runs out on the client's clock, not the wall clock: nothing listens at the URL,
    /// and the request keeps trying (every 200 ms of that clock) until 60 s of it have passed.
    /// </summary>
    [Fact]
    public async Task The_clis_patience_runs_on_its_clock()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var api = new ClusterApi(["http://127.0.0.1:9/"], time: clock);
        var request = api.ClusterAsync(CancellationToken.None);
        var waited = TimeSpan.Zero;
        while (!request.IsCompleted && waited < S(59))
        {
            // A real connection refusal takes real time: let it happen, then move the clock on.
            await Task.Delay(5);
            clock.Advance(S(1));
            waited += S(1);
        }
        Assert.False(request.IsCompleted, "the request gave up before 60 s of the client's clock had passed");
        for (var i = 0; i < 500 && !request.IsCompleted; i++)
        {
            await Task.Delay(5);
            clock.Advance(S(1));
        }
        Assert.True(request.IsCompleted, "the request still tried after its clock had passed 60 s");
        var e = await Assert.ThrowsAsync<ApiException>(() => request);
        Assert.EndsWith("(tried http://127.0.0.1:9/ for 60 s)", e.Message);
    }

    [Fact]
    public void A_workers_parts_default_to_the_hocons_waits()
    {
        using var code = new CompiledCodeCache();
        Assert.Equal(M(2), code.UnloadAfter);
        using var set = new CompiledCodeCache(unloadAfter: S(30));
        Assert.Equal(S(30), set.UnloadAfter);
        Assert.Equal(M(5), new KeyRangeSampler(null!, (_, _, _) => Task.FromResult<IReadOnlyList<Actors.Protocol.MapChunk>>([])).Timeout);
        var executor = new TaskExecutor(null!, code, Path.GetTempPath(), Read("").Shuffle, 1) { TextSliceBytes = 1 << 20 };
        Assert.Equal(S(10), executor.LogWriteTimeout);
    }

    [Theory]
    [InlineData("client.patience")]
    [InlineData("client.request-timeout")]
    [InlineData("client.final-record-wait")]
    [InlineData("client.build-timeout")]
    [InlineData("http.master-timeout")]
    [InlineData("http.slow-command-timeout")]
    [InlineData("local.detached-keep")]
    [InlineData("local.start-timeout")]
    [InlineData("local.stop-grace")]
    [InlineData("local.cluster-stop-grace")]
    [InlineData("kvstore.sweep-every")]
    [InlineData("kvstore.abandoned-after")]
    [InlineData("worker.code-unload-after")]
    [InlineData("worker.log-write-timeout")]
    [InlineData("worker.key-sample-timeout")]
    [InlineData("blob-store.start-patience")]
    public void A_wait_that_is_not_positive_is_refused_with_one_line(string key) =>
        Assert.Equal($"mapreduce.{key} (0ms) must be positive", Refusal($"mapreduce.{key} = 0s"));

    [Theory]
    [InlineData("mapreduce.master.journal-batch-delay = 10s",
        "mapreduce.http.master-timeout (10s) must be longer than mapreduce.master.journal-batch-delay (10s): the master answers a command once it is journaled")]
    [InlineData("mapreduce.http.slow-command-timeout = 60s",
        "mapreduce.http.slow-command-timeout (60s) must be longer than twice mapreduce.master.kvstore-timeout (30s): a dataset's deletion finds the kvstore and waits for its answer, each up to kvstore-timeout")]
    [InlineData("mapreduce.master.kvstore-timeout = 50s",
        "mapreduce.http.slow-command-timeout (90s) must be longer than twice mapreduce.master.kvstore-timeout (50s): a dataset's deletion finds the kvstore and waits for its answer, each up to kvstore-timeout")]
    [InlineData("mapreduce.client.request-timeout = 90s",
        "mapreduce.client.request-timeout (90s) must be longer than mapreduce.http.slow-command-timeout (90s): the CLI would give up on a submission the cluster still works on, and send it again")]
    [InlineData("mapreduce.master.long-poll = 118s",
        "mapreduce.client.request-timeout (120s) must be longer than mapreduce.master.long-poll (118s) + 2s: the control API holds a status question that long")]
    [InlineData("mapreduce.kvstore.abandoned-after = 60s",
        "mapreduce.kvstore.abandoned-after (60s) must be longer than mapreduce.kvstore.idle-timeout (60s): the temp file of a transfer that is only stalled would be deleted under it")]
    [InlineData("mapreduce.kvstore.idle-timeout = 2h",
        "mapreduce.kvstore.abandoned-after (3600s) must be longer than mapreduce.kvstore.idle-timeout (7200s): the temp file of a transfer that is only stalled would be deleted under it")]
    public void Contradicting_waits_are_refused_with_one_line(string hocon, string message) => Assert.Equal(message, Refusal(hocon));

    [Fact]
    public void Waits_just_past_what_they_depend_on_are_accepted()
    {
        var settings = Read("""
            mapreduce.master { journal-batch-delay = 9s, kvstore-timeout = 44s, long-poll = 117s }
            mapreduce.kvstore.abandoned-after = 61s
            """);
        Assert.Equal((S(10), S(90), S(120), S(61)), (settings.ControlApi.MasterTimeout, settings.ControlApi.SlowCommandTimeout, settings.Client.RequestTimeout, settings.TempSweep.AbandonedAfter));
    }
}
