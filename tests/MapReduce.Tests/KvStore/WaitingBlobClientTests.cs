using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace MapReduce.Tests.KvStore;

/// <summary>A worker's requests wait out a kvstore that is away, on a fake clock: asked again 1 s, 2 s, 4 s, … later, never more than 30 s apart.</summary>
public sealed class WaitingBlobClientTests
{
    /// <summary>Fails with what it is given for each call, in turn, then answers 42; records when (on the fake clock) each call came.</summary>
    private sealed class Flaky(TimeProvider clock, params Exception[] failures) : IBlobClient
    {
        public List<TimeSpan> Calls { get; } = [];

        private Task<long> Next()
        {
            lock (Calls)
            {
                Calls.Add(clock.GetUtcNow() - Start);
                return Calls.Count <= failures.Length ? Task.FromException<long>(failures[Calls.Count - 1]) : Task.FromResult(42L);
            }
        }

        public Task<long> PutAsync(string key, byte[] data, CancellationToken ct = default) => Next();
        public Task<long> PutFileAsync(string key, string path, CancellationToken ct = default) => Next();
        public Task<long> PutOwnedFileAsync(string key, string path, CancellationToken ct = default) => Next();
        public Task<long> PutFileRangeAsync(string key, string path, long offset, long length, CancellationToken ct = default) => Next();
        public Task<byte[]> GetBytesAsync(string key, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<RentedBlob> GetRentedAsync(string key, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<long> GetToFileAsync(string key, string path, CancellationToken ct = default) => Next();
        public Task<MapReduce.Storage.Blobs.StoredBlob> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default) => throw new NotSupportedException();
    }

    private static readonly DateTimeOffset Start = new(2026, 11, 30, 17, 42, 3, TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(Start);
    private readonly List<string> _log = [];

    private static KvStoreUnreachableException Gone() => new("no kvstore node is up in the cluster after 60 s");

    private WaitingBlobClient Client(Flaky inner, Func<bool> away, TimeSpan? diskFullWait = null) =>
        new(inner, away, m => { lock (_log) _log.Add(m); }, Waits, _clock, diskFullWait);

    /// <summary>A grace of 15 s and retries 1 s, 2 s, 4 s, … 30 s apart, as the expected lines below count.</summary>
    private static readonly KvStoreClientSettings Waits =
        new(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(15), new ExponentialBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30)));

    private static KvStoreDiskFullException Full() => new(KvStoreDiskFullException.Describe("jobs/j/map/m00000.1/p00000", "the folder /s/kvstore"));

    [Fact]
    public async Task A_write_the_kvstore_refuses_for_a_full_disk_is_made_again_until_there_is_space()
    {
        var inner = new Flaky(_clock, Full(), Full(), Full());
        var request = Client(inner, away: () => false, diskFullWait: TimeSpan.FromSeconds(30)).PutOwnedFileAsync("jobs/j/map/m00000.1/p00000", "/tmp/run");
        await RunClock(request);

        Assert.Equal(42, await request);
        Assert.Equal([1, 2, 4], Gaps(inner));
        Assert.Equal("jobs/j/map/m00000.1/p00000: kvstore disk full: cannot store jobs/j/map/m00000.1/p00000: no space left in the folder /s/kvstore; waiting for space, asking again in 4 s", _log[^1]);
    }

    [Fact]
    public async Task A_kvstore_disk_that_stays_full_fails_the_write_with_that_reason_after_the_wait()
    {
        var inner = new Flaky(_clock, Enumerable.Range(0, 20).Select(_ => (Exception)Full()).ToArray());
        var request = Client(inner, away: () => false, diskFullWait: TimeSpan.FromSeconds(10)).PutAsync("k", []);
        await RunClock(request);

        var e = await Assert.ThrowsAsync<KvStoreDiskFullException>(() => request);
        Assert.Equal("kvstore disk full: cannot store jobs/j/map/m00000.1/p00000: no space left in the folder /s/kvstore (waited 10 s for space)", e.Message);
        // At 0, 1, 3, 7 s, then at 10 s (the wait's end, not 15 s), which fails for good.
        Assert.Equal([1, 2, 4, 3], Gaps(inner));
    }

    /// <summary>Its job is over: asking again could never succeed, so the attempt hears it at once, even with the kvstore away and a disk-full wait set.</summary>
    [Fact]
    public async Task A_write_refused_because_its_job_has_ended_fails_at_once_and_is_never_made_again()
    {
        var ended = new KvStoreJobEndedException("job j has ended; this attempt's output is discarded (jobs/j/map/m00000.2/p00000 was not kept)");
        var inner = new Flaky(_clock, ended);
        var e = await Assert.ThrowsAsync<KvStoreJobEndedException>(() =>
            Client(inner, away: () => true, diskFullWait: TimeSpan.FromSeconds(30)).PutOwnedFileAsync("jobs/j/map/m00000.2/p00000", "/tmp/run"));
        Assert.Same(ended, e);
        Assert.Single(inner.Calls);
        Assert.Empty(_log);
    }

    [Fact]
    public async Task Without_a_disk_full_wait_a_full_kvstore_fails_the_write_at_once()
    {
        var inner = new Flaky(_clock, Full());
        await Assert.ThrowsAsync<KvStoreDiskFullException>(() => Client(inner, away: () => false).PutAsync("k", []));
        Assert.Single(inner.Calls);
    }

    /// <summary>
    /// Lets fake time pass in quarter seconds until the request ends or two minutes have passed. The
    /// client's waits are on the fake clock; the 2 ms of real time between steps only let its
    /// continuations run on the thread pool, they stand for no time the client waits.
    /// </summary>
    private async Task RunClock(Task request)
    {
        for (var step = 0; step < 480 && !request.IsCompleted; step++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(250));
            await Task.Delay(2);
        }
    }

    /// <summary>Seconds between the calls, to the quarter second the clock moves by.</summary>
    private static double[] Gaps(Flaky inner)
    {
        lock (inner.Calls) return inner.Calls.Zip(inner.Calls.Skip(1), (a, b) => Math.Floor((b - a).TotalSeconds * 4) / 4).ToArray();
    }

    [Fact]
    public async Task While_the_kvstore_is_away_a_request_is_made_again_with_back_off_until_it_is_back()
    {
        var inner = new Flaky(_clock, Gone(), Gone(), Gone(), Gone(), Gone(), Gone(), Gone());
        var request = Client(inner, away: () => true).PutFileAsync("jobs/j/map/m00000.1/p00000", "/tmp/run");
        await RunClock(request);

        Assert.Equal(42, await request);
        // Asked again after 1, 2, 4, 8, 16 s, then every 30 s (the cap).
        Assert.Equal([1, 2, 4, 8, 16, 30, 30], Gaps(inner));
        Assert.Equal(7, _log.Count);
        Assert.Equal("jobs/j/map/m00000.1/p00000: no kvstore node is up in the cluster after 60 s; waiting for the kvstore, asking again in 30 s", _log[^1]);
    }

    [Fact]
    public async Task A_kvstore_that_looks_up_but_cannot_be_reached_fails_the_request_after_the_grace()
    {
        var inner = new Flaky(_clock, Gone(), Gone(), Gone(), Gone(), Gone(), Gone());
        var request = Client(inner, away: () => false).PutAsync("k", []);
        await RunClock(request);
        await Assert.ThrowsAsync<KvStoreUnreachableException>(() => request);
        // Within the 15 s of grace: tried at 0, 1, 3 and 7 s; the try at 15 s is the last.
        Assert.Equal([1, 2, 4, 8], Gaps(inner));
    }

    [Fact]
    public async Task A_refusal_of_the_kvstore_is_not_asked_again()
    {
        var inner = new Flaky(_clock, new KvStoreException("blob k does not exist in the kvstore"));
        var e = await Assert.ThrowsAsync<KvStoreException>(() => Client(inner, away: () => true).PutAsync("k", []));
        Assert.Equal("blob k does not exist in the kvstore", e.Message);
        Assert.Empty(_log);
    }

    [Fact]
    public async Task A_stopped_attempt_stops_waiting_at_once()
    {
        var inner = new Flaky(_clock, Gone(), Gone());
        using var stop = new CancellationTokenSource();
        var request = Client(inner, away: () => true).PutAsync("k", [], stop.Token);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
    }
}
