using System.Collections.Concurrent;
using System.Text;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.UserCode;

namespace MapReduce.Actors.Worker;

/// <summary>
/// The key ranges of a job whose script partitions with TotalOrder, as Hadoop's InputSampler
/// picks them before a TeraSort: Map runs on the first <see cref="SliceBytes"/> (whole lines) of up
/// to <see cref="SampleChunks"/> chunks spread over the job's input (the master names them), and
/// the ranges are cut at the quantiles of the keys it yields. The first map task of the job on a
/// worker does this once; the result is stored under the job (<see cref="BlobKeys.KeyRanges"/>),
/// written once, so every attempt on every worker partitions with the same ranges: a worker whose
/// own sample differs (a Map that is not deterministic) takes the stored one.
/// </summary>
/// <param name="sampleChunks">Asks the master for up to N chunks spread over a job's input.</param>
public sealed class KeyRangeSampler(IBlobClient blobs, Func<JobId, int, CancellationToken, Task<IReadOnlyList<MapChunk>>> sampleChunks)
{
    public const int SampleChunks = 64;
    public const int SliceBytes = 64 << 10;
    /// <summary>Jobs whose ranges a worker keeps: more than run at once.</summary>
    private const int KeptJobs = 32;

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private readonly ConcurrentDictionary<JobId, Lazy<Task<byte[]>>> _byJob = new();

    /// <summary>A bound on a master that never answers and on slow reads: the attempt fails and runs again (mapreduce.worker.key-sample-timeout).</summary>
    public TimeSpan Timeout { get; init; } = MapReduceSettings.Defaults.WorkerWaits.KeySampleTimeout;

    /// <summary>
    /// What is sampled of a chunk: its first <see cref="SliceBytes"/> (<paramref name="head"/>, at
    /// most that many bytes read from its start), cut back to whole lines. A head shorter than
    /// <see cref="SliceBytes"/> is the whole chunk, which ends at a line end.
    /// </summary>
    public static string HeadText(ReadOnlySpan<byte> head)
    {
        if (head.Length > SliceBytes) head = head[..SliceBytes];
        var end = head.Length < SliceBytes ? head.Length : head.LastIndexOf((byte)'\n') + 1;
        return StrictUtf8.GetString(head[..end]);
    }

    /// <summary>
    /// Up to <paramref name="count"/> of <paramref name="chunks"/> (in input order) spread evenly over
    /// them: all when there are no more, else the first of each of <paramref name="count"/> equal
    /// stretches. The one rule for which chunks a key sample reads, so that whoever picks them (the
    /// master for a cluster's job, the test harness in one process) samples the same ones.
    /// </summary>
    public static IReadOnlyList<T> Spread<T>(IReadOnlyList<T> chunks, int count = SampleChunks) =>
        chunks.Count <= count ? chunks : [.. Enumerable.Range(0, count).Select(i => chunks[(int)((long)i * chunks.Count / count)])];

    /// <summary>The job's key ranges, read with the script's key type; sampled and stored by the first task that needs them.</summary>
    public async Task<KeyRanges> RangesForAsync(JobId job, IUserTask task, int reducers, CancellationToken stop)
    {
        if (_byJob.Count > KeptJobs) _byJob.Clear();
        var entry = _byJob.GetOrAdd(job, _ => new Lazy<Task<byte[]>>(() => SampleOrReadAsync(job, task, reducers)));
        try
        {
            var encoded = await entry.Value.WaitAsync(stop).ConfigureAwait(false);
            var ranges = task.ReadKeyRanges(encoded);
            if (ranges.Reducers != reducers) throw new InvalidDataException($"the stored key ranges of {job} are for {ranges.Reducers} reducers, not {reducers}");
            return ranges;
        }
        catch when (entry.Value.IsFaulted)
        {
            _byJob.TryRemove(new KeyValuePair<JobId, Lazy<Task<byte[]>>>(job, entry)); // the next task tries again
            throw;
        }
    }

    private async Task<byte[]> SampleOrReadAsync(JobId job, IUserTask task, int reducers)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var chunks = await sampleChunks(job, SampleChunks, timeout.Token).ConfigureAwait(false);
        if (chunks.Count == 0) throw new InvalidOperationException($"the master listed no input chunk of {job} to sample keys from (has the job ended?)");
        var texts = new (string DocId, string Text)[chunks.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, chunks.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = timeout.Token }, async (i, ct) =>
        {
            if (ChunkText.IsGzip(chunks[i].ChunkKey))
            {
                // A whole .gz file: the first slice of its text, decompressed.
                using var text = await ChunkText.OpenAsync(blobs, chunks[i].ChunkKey, SliceBytes, ct).ConfigureAwait(false);
                await foreach (var first in text.SlicesAsync(ct).ConfigureAwait(false))
                {
                    texts[i] = (chunks[i].DocId, first.Text);
                    break;
                }
                texts[i].Text ??= "";
                return;
            }
            await using var slice = await blobs.OpenReadAsync(chunks[i].ChunkKey, 0, SliceBytes, ct).ConfigureAwait(false);
            var bytes = new byte[slice.Length];
            await slice.Content.ReadExactlyAsync(bytes, ct).ConfigureAwait(false);
            texts[i] = (chunks[i].DocId, HeadText(bytes));
        }).ConfigureAwait(false);
        // Map's counters and console output during the sample belong to no attempt.
        var ranges = new AttemptContext().Run(() => task.SampleKeyRanges(texts, reducers, $"the key sample of {job}"));
        var encoded = ranges.Encode();
        var key = BlobKeys.KeyRanges(job);
        try
        {
            await blobs.PutAsync(key, encoded, timeout.Token).ConfigureAwait(false);
            return encoded;
        }
        catch (KvStoreConflictException)
        {
            return await blobs.GetBytesAsync(key, timeout.Token).ConfigureAwait(false);
        }
    }
}
