using System.Text;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.UserCode;
using MapReduce.Actors.Worker;
using MapReduce.Storage.Blobs;
using MapReduce.Tests.Support;
using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Tests.Worker;

/// <summary>
/// An attempt whose output comes after its job ended (a paused worker that runs again) has it
/// refused by the store's fence: it ends as stopped, not failed (nothing runs again, no attempt is
/// counted against the task), at once (no retry, no second read of its inputs), and leaves nothing
/// in the job's folder. Real blobs in a folder store, a real compile.
/// </summary>
public sealed class JobEndedAttemptTests : IDisposable
{
    private const string ChunkKey = "data/data-a/000000-000000";
    private static readonly JobId Job = new("job-20261208-010000-abcdef");
    private readonly TempFolder _folder = new();
    private readonly LocalBlobStore _store;
    private readonly List<string> _log = [];
    private readonly TaskExecutor _executor;
    private readonly string _codeId;

    public JobEndedAttemptTests()
    {
        _store = new LocalBlobStore(_folder.File("kvstore"));
        _executor = new TaskExecutor(new DirectBlobClient(_store, _ => { }), new CompiledCodeCache(), Directory.CreateDirectory(_folder.File("scratch")).FullName,
            new ShuffleSettings(1 << 20, long.MaxValue, false, MergeFactor: 100), 2, _log.Add) { TextSliceBytes = 1 << 20 };
        _store.Put(ChunkKey, "a b a\n"u8.ToArray());
        var script = Encoding.UTF8.GetBytes("""
            IEnumerable<(string, int)> Map(string docId, string chunk) { foreach (var w in chunk.Split(' ', '\n', StringSplitOptions.RemoveEmptyEntries)) yield return (w, 1); }
            int Reduce(string key, IEnumerable<int> values) => values.Sum();
            """);
        _codeId = CodeBlob.IdOf(script);
        _store.Put(BlobKeys.Code(_codeId), script);
    }

    public void Dispose()
    {
        _store.Dispose();
        _folder.Dispose();
    }

    private WorkerProtocol.RunMapTask MapTask(int attempt) => new(new AttemptId(Job, TaskId.Map(0), attempt), _codeId, [new MapChunk("a.txt", 0, ChunkKey)], 1);

    private bool AnyFileOf(string folder) => Directory.Exists(Path.Combine(_store.Root, LocalBlobStore.BlobsFolder, folder))
        && Directory.EnumerateFiles(Path.Combine(_store.Root, LocalBlobStore.BlobsFolder, folder), "*", SearchOption.AllDirectories).Any();

    [Fact]
    public async Task A_map_whose_job_ended_ends_as_stopped_and_leaves_no_run()
    {
        await JobFence.EndAsync(_store, Job.Value);

        var ended = Assert.IsType<TaskAttemptFailed>(await _executor.RunMapAsync(MapTask(2)));

        var run = BlobKeys.MapRun(new AttemptId(Job, TaskId.Map(0), 2), 0);
        var message = $"job {Job} has ended; this attempt's output is discarded ({run} was not kept)";
        Assert.Equal(new TaskAttemptFailed(MapTask(2).Attempt, FailureKind.Stopped, message), ended);
        Assert.False(AnyFileOf($"jobs/{Job}"));
        Assert.Contains($"{MapTask(2).Attempt}: {message}", _log);
    }

    [Fact]
    public async Task A_reduce_whose_job_ended_while_it_ran_ends_as_stopped_and_leaves_no_part()
    {
        Assert.IsType<MapTaskSucceeded>(await _executor.RunMapAsync(MapTask(1)));
        var reduce = new WorkerProtocol.RunReduceTask(new AttemptId(Job, TaskId.Reduce(0), 2), _codeId, [1]);
        // The job ends while the reduce reads the runs (which its clean-up has not deleted yet).
        await JobFence.EndAsync(_store, Job.Value);

        var ended = Assert.IsType<TaskAttemptFailed>(await _executor.RunReduceAsync(reduce));

        Assert.Equal(FailureKind.Stopped, ended.Kind);
        Assert.Equal($"job {Job} has ended; this attempt's output is discarded ({BlobKeys.ReduceOutput(reduce.Attempt)} was not kept)", ended.Error);
        Assert.False(_store.Exists(BlobKeys.ReduceOutput(reduce.Attempt)));
        Assert.False(AnyFileOf($"jobs/{Job}/reduce"));
    }
}
