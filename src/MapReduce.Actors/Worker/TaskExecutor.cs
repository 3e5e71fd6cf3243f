using System.Text;
using MapReduce.Actors.KvStore;
using MapReduce.Actors.Master;
using MapReduce.Actors.UserCode;
using static MapReduce.Actors.Master.MasterProtocol;
using static MapReduce.Actors.Worker.WorkerProtocol;

namespace MapReduce.Actors.Worker;

/// <summary>
/// Runs one task attempt on this worker node: fetches its input from the kvstore, runs the
/// compiled user code, stores the output under the attempt's own keys and returns the message
/// for the master. Any failure becomes a <see cref="TaskAttemptFailed"/>, never an exception; an
/// attempt whose <c>stop</c> token fires ends as <see cref="FailureKind.Stopped"/> at the next check.
/// </summary>
public sealed class TaskExecutor(BlobClient blobs, CompiledCodeCache code, string scratchFolder, int mapBufferEntries, int slots, Action<string>? log = null)
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, false);

    private readonly MapOutputPool _buffers = new(slots);

    public async Task<object> RunMapAsync(RunMapTask task, CancellationToken stop = default)
    {
        var attempt = task.Attempt;
        var scratch = NewScratchFolder(attempt);
        try
        {
            var clock = new PhaseTimes();
            var compiled = await CompileAsync(task.CodeId).ConfigureAwait(false);
            clock.Lap("code");
            var output = _buffers.Rent(task.CodeId, compiled, task.Reducers, mapBufferEntries, scratch);
            // The next chunk downloads while this one is mapped.
            var next = blobs.GetRentedAsync(task.Chunks[0].ChunkKey);
            for (var i = 0; i < task.Chunks.Length; i++)
            {
                stop.ThrowIfCancellationRequested();
                var chunk = task.Chunks[i];
                string text;
                using (var bytes = await next.ConfigureAwait(false)) text = StrictUtf8.GetString(bytes.Span);
                if (i + 1 < task.Chunks.Length) next = blobs.GetRentedAsync(task.Chunks[i + 1].ChunkKey);
                clock.Lap("fetch");
                await Task.Run(() => ProcessExitWatch.RunAs(attempt, () =>
                {
                    compiled.RunMap(chunk.DocId, text, output, chunk.Describe(), stop);
                    return 0;
                }), stop).ConfigureAwait(false);
                clock.Lap("map");
            }
            var where = task.Chunks.Length == 1 ? task.Chunks[0].Describe() : $"map task {attempt.Task}";
            var counts = await Task.Run(() => ProcessExitWatch.RunAs(attempt,
                () => output.WriteRuns(p => new FileStream(RunPath(scratch, p), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16), where))).ConfigureAwait(false);
            clock.Lap("map");
            var spills = output.Spills;
            _buffers.Return(task.CodeId, task.Reducers, output);
            var uploads = Enumerable.Range(0, task.Reducers).Where(p => counts[p] > 0)
                .Select(p => blobs.PutFileAsync(BlobKeys.MapRun(attempt, p), RunPath(scratch, p)));
            await Task.WhenAll(uploads).ConfigureAwait(false);
            clock.Lap("store");
            var chunks = task.Chunks.Length > 1 ? $", {task.Chunks.Length} chunks" : "";
            log?.Invoke($"{attempt}: {clock}{chunks}{(spills > 0 ? $" ({spills} spills to disk)" : "")}");
            return new MapTaskSucceeded(attempt, counts);
        }
        catch (Exception e)
        {
            return Failed(attempt, e, stop);
        }
        finally
        {
            TryDeleteFolder(scratch);
        }
    }

    public async Task<object> RunReduceAsync(RunReduceTask task, CancellationToken stop = default)
    {
        var attempt = task.Attempt;
        var scratch = NewScratchFolder(attempt);
        try
        {
            var clock = new PhaseTimes();
            var compiled = await CompileAsync(task.CodeId).ConfigureAwait(false);
            clock.Lap("code");
            var runKeys = task.RunKeys();
            var runFiles = runKeys.Select((_, i) => Path.Combine(scratch, $"run-{i:D6}")).ToArray();
            await blobs.GetToFilesAsync(runKeys.Select((key, i) => (key, runFiles[i])).ToList(), 4).ConfigureAwait(false);
            clock.Lap("fetch");
            var outputFile = Path.Combine(scratch, "output");
            var lines = await Task.Run(() => ProcessExitWatch.RunAs(attempt, () =>
            {
                var streams = runFiles.Select(f => (Stream)new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16)).ToList();
                try
                {
                    using var output = new FileStream(outputFile, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                    return compiled.RunReduce(streams, output, $"partition {task.Partition}", stop);
                }
                finally
                {
                    foreach (var s in streams) s.Dispose();
                }
            }), stop).ConfigureAwait(false);
            clock.Lap("reduce");
            await blobs.PutFileAsync(BlobKeys.ReduceOutput(attempt), outputFile).ConfigureAwait(false);
            clock.Lap("store");
            log?.Invoke($"{attempt}: {clock}");
            return new ReduceTaskSucceeded(attempt, lines);
        }
        catch (Exception e)
        {
            return Failed(attempt, e, stop);
        }
        finally
        {
            TryDeleteFolder(scratch);
        }
    }

    private async Task<IUserTask> CompileAsync(string codeId)
    {
        try
        {
            return await code.GetOrCompile(codeId, async () => Encoding.UTF8.GetString(await blobs.GetBytesAsync(BlobKeys.Code(codeId)).ConfigureAwait(false))).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KvStoreException or TimeoutException)
        {
            code.Forget(codeId); // the source could not be fetched: let a later task try again
            throw;
        }
    }

    /// <summary>A folder of this attempt's own: two attempts of one task may run on one node.</summary>
    private string NewScratchFolder(AttemptId attempt) =>
        Directory.CreateDirectory(Path.Combine(scratchFolder, $"{attempt.Job}-{attempt.Name}-{Guid.NewGuid().ToString("N")[..6]}")).FullName;

    private static string RunPath(string scratch, int partition) => Path.Combine(scratch, $"p{partition:D5}");

    private static TaskAttemptFailed Failed(AttemptId attempt, Exception e, CancellationToken stop) => e switch
    {
        OperationCanceledException when stop.IsCancellationRequested => new TaskAttemptFailed(attempt, FailureKind.Stopped, "stopped"),
        CompileErrorException c => new TaskAttemptFailed(attempt, FailureKind.CompileError, c.Message),
        UserCodeException u => new TaskAttemptFailed(attempt, FailureKind.UserCode, u.Message),
        DecoderFallbackException => new TaskAttemptFailed(attempt, FailureKind.UserCode, "input is not valid UTF-8 text"),
        _ => new TaskAttemptFailed(attempt, FailureKind.Infrastructure, $"{e.GetType().Name}: {e.Message}"),
    };

    private static void TryDeleteFolder(string folder)
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
