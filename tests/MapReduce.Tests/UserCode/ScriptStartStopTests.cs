using System.Text;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.UserCode;
using MapReduce.Actors.Worker;
using MapReduce.Storage.Blobs;
using MapReduce.Tests.Support;
using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Tests.UserCode;

/// <summary>
/// A script's top-level code runs when a worker first loads it, inside the first attempt that needs
/// it. That code belongs to the attempt as its Map does: an attempt told to stop while its script
/// starts does not end (and free its slot) before the code returns, so the worker's cancel-grace
/// applies to an endless loop there too (the worker exits). Real blobs, real compiles.
/// </summary>
public sealed class ScriptStartStopTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private readonly TempFolder _folder = new();
    private readonly LocalBlobStore _store;
    private readonly HeldBlobClient _blobs;
    private readonly TaskExecutor _executor;
    private readonly string _run = Guid.NewGuid().ToString("N");

    public ScriptStartStopTests()
    {
        _store = new LocalBlobStore(_folder.File("kvstore"));
        _blobs = new HeldBlobClient(new DirectBlobClient(_store, _ => { }));
        _executor = new TaskExecutor(_blobs, new CompiledCodeCache(), Directory.CreateDirectory(_folder.File("scratch")).FullName, new ShuffleSettings(1 << 20, long.MaxValue, false, MergeFactor: 100), 2) { TextSliceBytes = 1 << 20 };
        _store.Put("data/data-a/000000-000000", "a b\n"u8.ToArray());
    }

    public void Dispose()
    {
        AppContext.SetData(Key("release"), "yes"); // never leave a script looping in the test process
        _store.Dispose();
        _folder.Dispose();
    }

    private string Key(string what) => $"mapreduce-test-{what}-{_run}";

    /// <summary>A script whose top-level code says it started, then loops until the test releases it.</summary>
    private string StoreLoopingScript()
    {
        var script = $$"""
            AppContext.SetData("{{Key("started")}}", "yes");
            while (AppContext.GetData("{{Key("release")}}") is null) System.Threading.Thread.Sleep(5);
            IEnumerable<(string, int)> Map(string docId, string chunk) { yield return (chunk, 1); }
            int Reduce(string key, IEnumerable<int> values) => values.Sum();
            """;
        var bytes = Encoding.UTF8.GetBytes(script);
        var codeId = CodeBlob.IdOf(bytes);
        _store.Put(BlobKeys.Code(codeId), bytes);
        return codeId;
    }

    private static WorkerProtocol.RunMapTask MapTask(string codeId) =>
        new(new AttemptId(new JobId("job-20261130-080000-abcdef"), TaskId.Map(0), 1), codeId, [new MapChunk("a.txt", 0, "data/data-a/000000-000000")], 2);

    [Fact]
    public async Task An_attempt_stopped_while_its_scripts_top_level_code_runs_ends_only_when_that_code_returns()
    {
        var codeId = StoreLoopingScript();
        using var stop = new CancellationTokenSource();
        var attempt = _executor.RunMapAsync(MapTask(codeId), stop.Token);
        var started = DateTime.UtcNow;
        // Polls for the script's own signal (compiled and started on another thread): an outcome, not time to pass.
        while (AppContext.GetData(Key("started")) is null)
        {
            Assert.True(DateTime.UtcNow - started < Wait, "the script's top-level code never ran");
            if (attempt.IsCompleted) Assert.Fail($"the attempt ended before its script started: {await attempt}");
            await Task.Delay(10);
        }

        await stop.CancelAsync();
        // No clock decides when the attempt ends (the script's loop does): 500 ms of real time is only
        // the window in which a wrong early end would show.
        // Ended now, the worker would show the slot free while the loop goes on burning a core, and
        // its cancel-grace (which exits the worker for an attempt that does not end) would never fire.
        var endedEarly = await Task.WhenAny(attempt, Task.Delay(TimeSpan.FromMilliseconds(500))) == attempt;
        Assert.False(endedEarly, $"the attempt ended while its script's top-level code still ran: {(endedEarly ? await attempt : null)}");

        AppContext.SetData(Key("release"), "yes");
        var result = Assert.IsType<TaskAttemptFailed>(await attempt.WaitAsync(Wait));
        Assert.Equal((FailureKind.Stopped, "stopped"), (result.Kind, result.Error));
    }

    [Fact]
    public async Task An_attempt_stopped_while_its_script_is_still_being_fetched_ends_at_once()
    {
        var codeId = StoreLoopingScript();
        var release = _blobs.Hold(BlobKeys.Code(codeId));
        using var stop = new CancellationTokenSource();
        var attempt = _executor.RunMapAsync(MapTask(codeId), stop.Token);
        await _blobs.Asked(BlobKeys.Code(codeId)).WaitAsync(Wait);

        await stop.CancelAsync();
        var result = Assert.IsType<TaskAttemptFailed>(await attempt.WaitAsync(Wait));
        Assert.Equal((FailureKind.Stopped, "stopped"), (result.Kind, result.Error));
        release();
    }
}
