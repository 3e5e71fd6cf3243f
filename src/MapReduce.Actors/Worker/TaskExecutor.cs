using System.Text;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.UserCode;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Chunking;
using MapReduce.Storage.Records;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Actors.Worker;

/// <summary>
/// Runs one task attempt on this worker node: fetches its input from the kvstore, runs the
/// compiled user code, stores the output under the attempt's own keys and returns the message
/// for the master. Any failure becomes a <see cref="TaskAttemptFailed"/>, never an exception; an
/// attempt whose <c>stop</c> token fires ends as <see cref="FailureKind.Stopped"/> at the next check
/// (also while it waits for the kvstore: the blob client is given the token).
/// Each attempt counts what it read and wrote where the data passes anyway, and keeps what its user
/// code counted and printed (<see cref="AttemptContext"/>); a non-empty log is stored as a blob.
/// </summary>
/// <param name="keyRanges">Where a map task of a script that partitions with TotalOrder gets its job's key ranges (null: such a task fails saying so).</param>
public sealed class TaskExecutor(IBlobClient blobs, CompiledCodeCache code, string scratchFolder, ShuffleSettings shuffle, int slots, Action<string>? log = null, KeyRangeSampler? keyRanges = null)
{
    /// <summary>Runs opened at once while a reduce starts (each a file, or a stream over the data channel).</summary>
    private const int ParallelOpens = 16;

    /// <summary>A task's log is stored best effort: past this the attempt's result goes on without it (mapreduce.worker.log-write-timeout).</summary>
    public TimeSpan LogWriteTimeout { get; init; } = MapReduceSettings.Defaults.WorkerWaits.LogWriteTimeout;

    private readonly MapOutputPool _buffers = MapOutputPool.For(code, slots);

    /// <summary>The most text one Map call gets from a gzip chunk (mapreduce.block-size): such a chunk is a whole .gz file, mapped in slices.</summary>
    public required int TextSliceBytes { get; init; }

    /// <summary>How a failure on a full scratch disk begins (docs/operations.md#full-disks).</summary>
    public const string ScratchDiskFull = "scratch disk full";

    /// <summary>Why an incremental job of a script that partitions with TotalOrder fails: its key ranges are sampled from the whole input, so no map output can be reused for other input.</summary>
    public const string IncrementalTotalOrder =
        "--incremental does not apply to a script that partitions with TotalOrder (its key ranges are sampled from the whole input): run it without --incremental";

    public async Task<object> RunMapAsync(RunMapTask task, CancellationToken stop = default)
    {
        var attempt = task.Attempt;
        var scratch = NewScratchFolder(attempt);
        var context = new AttemptContext();
        using var codeInUse = code.Use(task.CodeId); // the code stays loaded while the attempt runs
        InputLine? failedOn = null; // the line Map threw on, when it maps line by line
        try
        {
            var clock = new PhaseTimes();
            var compiled = await CompileAsync(task.CodeId, stop).ConfigureAwait(false);
            clock.Lap("code");
            if (compiled.UsesTotalOrder && task.Reducers > 1 && task.Incremental)
                return new TaskAttemptFailed(attempt, FailureKind.CompileError, IncrementalTotalOrder);
            if (compiled.UsesTotalOrder && task.Reducers > 1)
            {
                context.KeyRanges = keyRanges is null
                    ? throw new InvalidOperationException("this worker cannot sample key ranges for TotalOrder")
                    : await keyRanges.RangesForAsync(attempt.Job, compiled, task.Reducers, stop).ConfigureAwait(false);
                clock.Lap("sample");
            }
            long inputBytes = 0, inputLines = 0, pairs = 0, skipped = 0;
            var lines = task.ByLine is null ? null : new ProcessExitWatch.LineCursor();
            var output = _buffers.Rent(task.CodeId, compiled, task.Reducers, shuffle.MapBufferBytes, scratch, shuffle.CompressRuns);
            // The dataset's format is in its chunk keys; Map's record type must read it.
            foreach (var chunk in task.Chunks) MapRecords.Check(InputFormats.OfChunkKey(chunk.ChunkKey, ChunkText.GzipSuffix), compiled.RecordType, chunk.Describe());
            // The next chunk downloads while this one is mapped (a chunk of text lines; one of records is fetched when its turn comes).
            var next = OpenText(task.Chunks[0]);
            for (var i = 0; i < task.Chunks.Length; i++)
            {
                stop.ThrowIfCancellationRequested();
                var chunk = task.Chunks[i];
                if (next is null)
                {
                    if (i + 1 < task.Chunks.Length) next = OpenText(task.Chunks[i + 1]);
                    using var records = await ChunkRecords.OpenAsync(blobs, chunk, compiled.RecordType, stop).ConfigureAwait(false);
                    clock.Lap("fetch");
                    pairs += await Task.Run(() => ProcessExitWatch.RunAs(attempt, () =>
                        context.Run(() => compiled.RunMapRecords(chunk.DocId, records.Read(), output, chunk.Describe(), stop))), stop).ConfigureAwait(false);
                    clock.Lap("map");
                    inputBytes += records.Bytes;
                    inputLines += records.Count;
                    continue;
                }
                using var chunkText = await next.ConfigureAwait(false);
                next = i + 1 < task.Chunks.Length ? OpenText(task.Chunks[i + 1]) : null;
                var skip = task.ByLine?.Where(l => l.DocId == chunk.DocId && l.ChunkIndex == chunk.ChunkIndex).Select(l => l.Line).ToHashSet();
                // Only line by line, after a failure: the lines this attempt may name get their number in the document.
                var linesBefore = skip is null || chunk.ChunkIndex == 0 ? null : await ChunkLines.CountBeforeAsync(blobs, chunk, stop).ConfigureAwait(false);
                long chunkLines = 0;
                await foreach (var slice in chunkText.SlicesAsync(stop).ConfigureAwait(false))
                {
                    var firstLine = chunkLines + 1; // lines are numbered within their chunk
                    chunkLines += slice.Lines;
                    inputBytes += slice.Bytes;
                    inputLines += slice.Lines;
                    clock.Lap("fetch");
                    if (skip is null)
                        pairs += await Task.Run(() => ProcessExitWatch.RunAs(attempt, () =>
                            context.Run(() => compiled.RunMap(chunk.DocId, slice.Text, output, chunk.Describe(), stop))), stop).ConfigureAwait(false);
                    else
                    {
                        try
                        {
                            pairs += await Task.Run(() => ProcessExitWatch.RunAs(attempt, () => context.Run(() => compiled.RunMapByLine(chunk.DocId, slice.Text, firstLine, output, chunk.Describe(),
                                n => Skips(skip, chunk, n, linesBefore), n => lines!.Set(chunk, n, linesBefore), stop,
                                linesBefore is null ? null : n => ChunkLines.Line(chunk, n, linesBefore).Describe())), lines), stop).ConfigureAwait(false);
                        }
                        catch (UserCodeException e) when (e.Line is { } n)
                        {
                            failedOn = ChunkLines.Line(chunk, n, linesBefore);
                            throw;
                        }
                    }
                    clock.Lap("map");
                }
            }
            var where = task.Chunks.Length == 1 ? task.Chunks[0].Describe() : $"map task {attempt.Task}";

            Task<ChunkText>? OpenText(MapChunk chunk) =>
                InputFormats.OfChunkKey(chunk.ChunkKey, ChunkText.GzipSuffix) == InputFormat.Lines ? ChunkText.OpenAsync(blobs, chunk.ChunkKey, TextSliceBytes, stop) : null;
            var counts = await Task.Run(() => ProcessExitWatch.RunAs(attempt, () => context.Run(
                () => output.WriteRuns(p => new FileStream(RunPath(scratch, p), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16), where)))).ConfigureAwait(false);
            clock.Lap("map");
            var spills = output.Spills;
            var counters = context.UserCounters();
            counters[TaskCounterNames.MapInputBytes] = inputBytes;
            counters[TaskCounterNames.MapInputLines] = inputLines;
            counters[TaskCounterNames.MapOutputPairs] = pairs;
            if (task.ByLine is not null) counters[TaskCounterNames.RecordsSkipped] = skipped;
            if (compiled.HasCombine)
            {
                // As Hadoop counts them: the pairs that went into the combining buffer, and those that left it for the runs.
                counters[TaskCounterNames.CombineInput] = pairs;
                counters[TaskCounterNames.CombineOutput] = counts.Sum(c => (long)c);
            }
            counters[TaskCounterNames.SpilledPairs] = output.SpilledPairs;
            counters[TaskCounterNames.MapOutputBytes] = Enumerable.Range(0, task.Reducers).Where(p => counts[p] > 0).Sum(p => new FileInfo(RunPath(scratch, p)).Length);
            _buffers.Return(task.CodeId, task.Reducers, output);
            // On the kvstore's machine the runs are moved into the store, not copied.
            var uploads = Enumerable.Range(0, task.Reducers).Where(p => counts[p] > 0)
                .Select(p => blobs.PutOwnedFileAsync(BlobKeys.MapRun(attempt, p), RunPath(scratch, p), stop));
            await Task.WhenAll(uploads).ConfigureAwait(false);
            clock.Lap("store");
            var chunks = task.Chunks.Length > 1 ? $", {task.Chunks.Length} chunks" : "";
            await StoreLogAsync(attempt, context, null).ConfigureAwait(false);
            log?.Invoke($"{attempt}: {clock}{chunks}{(spills > 0 ? $" ({spills} spills to disk)" : "")}");
            return new MapTaskSucceeded(attempt, counts, counters);

            // A line to skip is noted in the attempt's log (what `logs` shows) and counted.
            bool Skips(HashSet<long> skip, MapChunk chunk, long line, long? linesBefore)
            {
                if (!skip.Contains(line)) return false;
                context.Write($"{BadRecords.SkippedPrefix}{ChunkLines.Line(chunk, line, linesBefore).Describe()} (Map failed on it in two attempts)\n");
                skipped++;
                return true;
            }
        }
        catch (Exception e)
        {
            return await FailedAsync(attempt, context, await CorruptInputAsync(e, task.Chunks.Select(c => c.ChunkKey), stop).ConfigureAwait(false), stop, failedOn).ConfigureAwait(false);
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
        var context = new AttemptContext();
        using var codeInUse = code.Use(task.CodeId);
        try
        {
            var clock = new PhaseTimes();
            var compiled = await CompileAsync(task.CodeId, stop).ConfigureAwait(false);
            clock.Lap("code");
            IReadOnlyList<string> runKeys = task.RunKeys();
            var runs = new List<Stream>();
            long shuffleBytes = 0;
            var outputFile = Path.Combine(scratch, "output");
            ReduceCounts reduced;
            try
            {
                // The runs are read where they lie (in place on the kvstore's machine, streamed
                // elsewhere) while the merge works, never copied first.
                // Past mapreduce.shuffle-merge-factor runs, consecutive runs are merged into scratch
                // runs first, in passes (Hadoop's io.sort.factor), so a reduce never opens more at once.
                var merged = 0;
                var sources = await MergePasses.ReduceAsync<ReduceRun>([.. runKeys.Select(k => new ReduceRun(k, null))], shuffle.MergeFactor,
                    async (pass, group) =>
                    {
                        var opened = await OpenRunsAsync(group, stop).ConfigureAwait(false);
                        shuffleBytes += OriginalBytes(group, opened);
                        var file = Path.Combine(scratch, $"merged-{pass:D2}-{merged++:D5}");
                        await Task.Run(() =>
                        {
                            try
                            {
                                using var output = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                                compiled.MergeRuns(opened, output, shuffle.CompressRuns);
                            }
                            finally
                            {
                                foreach (var run in opened) run.Dispose();
                            }
                        }, stop).ConfigureAwait(false);
                        foreach (var run in group)
                            if (run.ScratchFile is { } consumed) File.Delete(consumed); // merged into the new run: frees scratch space
                        return new ReduceRun(null, file);
                    }).ConfigureAwait(false);
                runs.AddRange(await OpenRunsAsync(sources, stop).ConfigureAwait(false));
                shuffleBytes += OriginalBytes(sources, runs);
                clock.Lap("fetch");
                reduced = await Task.Run(() => ProcessExitWatch.RunAs(attempt, () => context.Run(() =>
                {
                    using var output = new FileStream(outputFile, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                    return compiled.RunReduce(runs, output, $"partition {task.Partition}", stop, shuffle.MaxReducerPartition);
                })), stop).ConfigureAwait(false);
            }
            finally
            {
                foreach (var run in runs) run.Dispose();
            }
            clock.Lap("reduce");
            var outputBytes = new FileInfo(outputFile).Length;
            await blobs.PutOwnedFileAsync(BlobKeys.ReduceOutput(attempt), outputFile, stop).ConfigureAwait(false);
            clock.Lap("store");
            var counters = context.UserCounters();
            counters[TaskCounterNames.ShuffleBytes] = shuffleBytes;
            counters[TaskCounterNames.ReduceGroups] = reduced.Groups;
            counters[TaskCounterNames.ReduceOutputPairs] = reduced.Lines;
            counters[TaskCounterNames.ReduceOutputBytes] = outputBytes;
            await StoreLogAsync(attempt, context, null).ConfigureAwait(false);
            log?.Invoke($"{attempt}: {clock}");
            return new ReduceTaskSucceeded(attempt, reduced.Lines, counters);
        }
        catch (Exception e)
        {
            return await FailedAsync(attempt, context, await CorruptInputAsync(e, task.RunKeys(), stop).ConfigureAwait(false), stop).ConfigureAwait(false);
        }
        finally
        {
            TryDeleteFolder(scratch);
        }
    }

    /// <summary>A run a reduce merges: a map run in the store, or one it merged into its scratch folder.</summary>
    private sealed record ReduceRun(string? BlobKey, string? ScratchFile);

    /// <summary>Bytes of the map runs (not the scratch runs) among these opened runs: what was shuffled.</summary>
    private static long OriginalBytes(IReadOnlyList<ReduceRun> runs, IReadOnlyList<Stream> opened) =>
        runs.Select((run, i) => run.BlobKey is null ? 0 : opened[i].Length).Sum();

    /// <summary>
    /// Why the attempt failed when one of its inputs is corrupt: a flipped byte may fail the
    /// attempt (garbage to decode, to user code) before the end of its blob is read and checked,
    /// so on a failure the inputs are read through once more, and the first corrupt one is the
    /// cause. Only on failures, and not for a stop, a compile error or a full disk: a write refused
    /// for want of space (this worker's scratch, or the kvstore's folder) says nothing about what was
    /// read, and re-reading every input (20,000 runs for a wide reduce) would only add load to a
    /// struggling machine; the attempt runs again elsewhere, where a corrupt input is found as usual.
    /// Nor for output refused because its job has ended: nothing runs again, and the inputs are being deleted.
    /// </summary>
    private async Task<Exception> CorruptInputAsync(Exception e, IEnumerable<string> inputs, CancellationToken stop)
    {
        if (e is BlobCorruptException or CompileErrorException or KvStoreDiskFullException or KvStoreJobEndedException || DiskFull.Is(e) || stop.IsCancellationRequested) return e;
        foreach (var key in inputs)
        {
            try
            {
                var blob = await blobs.OpenReadAsync(key, ct: stop).ConfigureAwait(false);
                await using (blob.ConfigureAwait(false)) await blob.Content.CopyToAsync(Stream.Null, stop).ConfigureAwait(false);
            }
            catch (BlobCorruptException corrupt)
            {
                return corrupt;
            }
            catch (Exception other) when (other is KvStoreException or IOException or TimeoutException)
            {
                // Not readable now: the original failure stands.
            }
        }
        return e;
    }

    /// <summary>Opens runs to read, <see cref="ParallelOpens"/> at a time; all or none (what was opened is closed when one fails).</summary>
    private async Task<List<Stream>> OpenRunsAsync(IReadOnlyList<ReduceRun> runs, CancellationToken stop)
    {
        var opened = new Stream?[runs.Count];
        using var limit = new SemaphoreSlim(ParallelOpens);
        try
        {
            await Task.WhenAll(runs.Select(async (run, i) =>
            {
                if (run.ScratchFile is { } file)
                {
                    opened[i] = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
                    return;
                }
                await limit.WaitAsync(stop).ConfigureAwait(false);
                try { opened[i] = (await blobs.OpenReadAsync(run.BlobKey!, ct: stop).ConfigureAwait(false)).Content; }
                finally { limit.Release(); }
            })).ConfigureAwait(false);
            return [.. opened.Select(s => s!)];
        }
        catch
        {
            foreach (var stream in opened) stream?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The compiled script, fetched and compiled once for every attempt that needs it, then started
    /// (its top-level code run) once. Fetching and compiling run no user code, so <paramref name="stop"/>
    /// ends this attempt's wait for them, not the others'. The top-level code is user code run on this
    /// attempt's behalf: it is awaited to its end as Map is, so an attempt stopped meanwhile stays
    /// running, its slot busy, until the code returns or the worker's cancel-grace exits the process.
    /// </summary>
    private async Task<IUserTask> CompileAsync(string codeId, CancellationToken stop)
    {
        LoadedCode script;
        try
        {
            script = await code.GetLoaded(codeId, async () =>
            {
                var key = BlobKeys.Code(codeId);
                var source = await blobs.GetBytesAsync(key).ConfigureAwait(false);
                // Checked here too, not only when stored: the code a worker runs is the code its id names.
                if (CodeBlob.Problem(key, source) is { } problem) throw new KvStoreException(problem);
                return source;
            }).WaitAsync(stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KvStoreException or TimeoutException)
        {
            code.Forget(codeId); // the source could not be fetched: let a later task try again
            throw;
        }
        stop.ThrowIfCancellationRequested(); // not started for an attempt that was stopped
        return await code.GetStarted(codeId, script).ConfigureAwait(false);
    }

    /// <summary>A folder of this attempt's own: two attempts of one task may run on one node. The job id comes in a message, so only its letters and digits name the folder.</summary>
    private string NewScratchFolder(AttemptId attempt) =>
        Directory.CreateDirectory(Path.Combine(scratchFolder, $"{new string(attempt.Job.Value.Where(char.IsAsciiLetterOrDigit).ToArray())}-{attempt.Name}-{Guid.NewGuid().ToString("N")[..6]}")).FullName;

    private static string RunPath(string scratch, int partition) => Path.Combine(scratch, $"p{partition:D5}");

    /// <param name="line">The line Map threw on, when the attempt mapped line by line.</param>
    private async Task<TaskAttemptFailed> FailedAsync(AttemptId attempt, AttemptContext context, Exception e, CancellationToken stop, InputLine? line = null)
    {
        var failed = Failed(attempt, e, stop);
        if (e is KvStoreJobEndedException) log?.Invoke($"{attempt}: {e.Message}");
        if (failed.Kind == FailureKind.UserCode && line is not null) failed = failed with { Line = line };
        // Storage trouble or a stop says nothing about the user's code: only output it printed is worth a blob then.
        var explain = failed.Kind is FailureKind.UserCode or FailureKind.CompileError;
        await StoreLogAsync(attempt, context, explain ? FailureText(failed, e) : null).ConfigureAwait(false);
        return failed;
    }

    /// <summary>The error as the master gets it, then the exception user code threw with its frames in task.csx.</summary>
    private static string FailureText(TaskAttemptFailed failed, Exception e)
    {
        var text = new StringBuilder($"attempt failed ({failed.Kind}): {failed.Error}\n");
        if (e is UserCodeException { InnerException: { } inner })
        {
            text.Append($"{inner.GetType().FullName}: {inner.Message}\n");
            // File and line only when the script was compiled with debug information (--in-process).
            var frames = new System.Diagnostics.StackTrace(inner, fNeedFileInfo: true).GetFrames()
                .Select(f => (Method: f.GetMethod(), File: f.GetFileName(), Line: f.GetFileLineNumber()))
                .Where(f => f.Method?.DeclaringType?.Assembly.IsCollectible == true); // the script's own assembly
            foreach (var (m, file, line) in frames)
                text.Append($"   at {m!.DeclaringType!.FullName}.{m.Name}{(file is null ? "" : $" in {file}:line {line}")}\n");
        }
        return text.ToString();
    }

    /// <summary>
    /// Stores what the attempt printed (and <paramref name="failure"/>) as its log blob; a silent
    /// attempt that succeeded writes nothing. A log that cannot be stored never fails the attempt.
    /// </summary>
    private async Task StoreLogAsync(AttemptId attempt, AttemptContext context, string? failure)
    {
        var text = context.LogText(failure);
        if (text.Length == 0) return;
        try
        {
            using var timeout = new CancellationTokenSource(LogWriteTimeout);
            await blobs.PutAsync(BlobKeys.TaskLog(attempt), Encoding.UTF8.GetBytes(text), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            log?.Invoke($"{attempt}: its log was not stored: {e.GetType().Name}: {e.Message}");
        }
    }

    internal static TaskAttemptFailed Failed(AttemptId attempt, Exception e, CancellationToken stop) => e switch
    {
        OperationCanceledException when stop.IsCancellationRequested => new TaskAttemptFailed(attempt, FailureKind.Stopped, "stopped"),
        // Its output came after its job's end (a paused worker, say) and was discarded: over, not failed, nothing to run again.
        KvStoreJobEndedException ended => new TaskAttemptFailed(attempt, FailureKind.Stopped, ended.Message),
        CompileErrorException c => new TaskAttemptFailed(attempt, FailureKind.CompileError, c.Message),
        UserCodeException u => new TaskAttemptFailed(attempt, FailureKind.UserCode, u.Message),
        // A record that cannot be read (--input-format) fails every attempt alike: the job fails at once, as for code that does not compile.
        Storage.Chunking.InputException i => new TaskAttemptFailed(attempt, FailureKind.CompileError, i.Message),
        DecoderFallbackException => new TaskAttemptFailed(attempt, FailureKind.UserCode, "input is not valid UTF-8 text"),
        BlobCorruptException c => new TaskAttemptFailed(attempt, FailureKind.Infrastructure, c.Why, CorruptBlob: c.Key),
        // This worker's own disk (scratch runs, spills, a reduce's output): the kvstore's full disk comes as a KvStoreException.
        not KvStoreException when DiskFull.Is(e) => new TaskAttemptFailed(attempt, FailureKind.DiskFull, $"{ScratchDiskFull}: {e.Message}"),
        _ => new TaskAttemptFailed(attempt, FailureKind.Infrastructure, $"{e.GetType().Name}: {e.Message}"),
    };

    private static void TryDeleteFolder(string folder)
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
