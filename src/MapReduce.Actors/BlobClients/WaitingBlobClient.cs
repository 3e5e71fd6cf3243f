using MapReduce.Actors.Hosting;
using MapReduce.Storage.Blobs;
namespace MapReduce.Actors.BlobClients;

/// <summary>
/// A worker's blob client that waits out a kvstore that is away: a request that fails because the
/// kvstore cannot be reached (<see cref="KvStoreUnreachableException"/>) is made again after 1 s,
/// 2 s, 4 s, … (at most 30 s apart, mapreduce.kvstore.backoff) for as long as this node sees no
/// kvstore Up and reachable (<paramref name="kvstoreAway"/>), so an attempt finishes once a
/// restarted kvstore is back, however long it took, instead of failing. For the first
/// mapreduce.kvstore.away-grace it is asked again in any case: a kvstore that has just died still looks
/// Up until the failure detector notices (2-3 s). After that, a kvstore that looks Up but cannot be
/// reached (its data channel blocked) fails the request as before. The attempt's cancellation token
/// ends the waiting at once. A write the kvstore refused because its disk is full
/// (<see cref="KvStoreDiskFullException"/>) is made again the same way for at most
/// <paramref name="diskFullWait"/> (mapreduce.kvstore.disk-full-wait; null: not at all), then fails
/// with that reason. Other failures (a missing blob) are not retried.
/// </summary>
/// <param name="waits">The grace and the backoff (mapreduce.kvstore.away-grace, backoff).</param>
public sealed class WaitingBlobClient(IBlobClient inner, Func<bool> kvstoreAway, Action<string> log, KvStoreClientSettings waits, TimeProvider? time = null, TimeSpan? diskFullWait = null)
    : IBlobClient
{
    /// <summary>Longer than the failure detector takes to mark a dead kvstore unreachable.</summary>
    private readonly TimeSpan _grace = waits.AwayGrace;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public Task<long> PutAsync(string key, byte[] data, CancellationToken ct = default) => RunAsync(key, () => inner.PutAsync(key, data, ct), ct);

    public Task<long> PutFileAsync(string key, string path, CancellationToken ct = default) => RunAsync(key, () => inner.PutFileAsync(key, path, ct), ct);

    public Task<long> PutFileRangeAsync(string key, string path, long offset, long length, CancellationToken ct = default) =>
        RunAsync(key, () => inner.PutFileRangeAsync(key, path, offset, length, ct), ct);

    public Task<long> PutOwnedFileAsync(string key, string path, CancellationToken ct = default) => RunAsync(key, () => inner.PutOwnedFileAsync(key, path, ct), ct);

    public Task<byte[]> GetBytesAsync(string key, CancellationToken ct = default) => RunAsync(key, () => inner.GetBytesAsync(key, ct), ct);

    public Task<RentedBlob> GetRentedAsync(string key, CancellationToken ct = default) => RunAsync(key, () => inner.GetRentedAsync(key, ct), ct);

    public Task<long> GetToFileAsync(string key, string path, CancellationToken ct = default) => RunAsync(key, () => inner.GetToFileAsync(key, path, ct), ct);

    /// <summary>Waits out an away kvstore to open the blob; a stream that breaks later fails its reader, who retries the attempt.</summary>
    public Task<StoredBlob> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default) =>
        RunAsync(key, () => inner.OpenReadAsync(key, offset, length, ct), ct);

    private async Task<T> RunAsync<T>(string key, Func<Task<T>> request, CancellationToken ct)
    {
        var started = _time.GetUtcNow();
        for (var failures = 1; ; failures++)
        {
            try
            {
                return await request().ConfigureAwait(false);
            }
            catch (KvStoreUnreachableException e) when (!ct.IsCancellationRequested && (_time.GetUtcNow() - started < _grace || kvstoreAway()))
            {
                var delay = waits.Backoff.Delay(failures);
                // One line per retry: at most one every 30 s once the kvstore has been away a while.
                log($"{key}: {e.Message}; waiting for the kvstore, asking again in {delay.TotalSeconds:0} s");
                await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            }
            catch (KvStoreDiskFullException e) when (!ct.IsCancellationRequested && diskFullWait is { } wait)
            {
                var waited = _time.GetUtcNow() - started;
                if (waited >= wait) throw new KvStoreDiskFullException($"{e.Message} (waited {waited.TotalSeconds:0} s for space)");
                var delay = waits.Backoff.Delay(failures);
                if (waited + delay > wait) delay = wait - waited;
                log($"{key}: {e.Message}; waiting for space, asking again in {delay.TotalSeconds:0.#} s");
                await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            }
        }
    }
}
