using MapReduce.Actors.BlobClients;

namespace MapReduce.Tests.Support;

/// <summary>
/// A real blob client whose reads of a held key wait until the test releases it (and say when they
/// were asked): the point at which a test looks at what is going on while a read is under way.
/// </summary>
public sealed class HeldBlobClient(IBlobClient inner) : IBlobClient
{
    private readonly Dictionary<string, (TaskCompletionSource Asked, TaskCompletionSource Release)> _held = new();

    /// <summary>Holds reads of <paramref name="key"/>; call the action returned to let them go on.</summary>
    public Action Hold(string key)
    {
        var gate = (Asked: new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
            Release: new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_held) _held[key] = gate;
        return () => gate.Release.TrySetResult();
    }

    /// <summary>Completes once a read of the held <paramref name="key"/> has begun.</summary>
    public Task Asked(string key)
    {
        lock (_held) return _held[key].Asked.Task;
    }

    public async Task<byte[]> GetBytesAsync(string key, CancellationToken ct = default)
    {
        (TaskCompletionSource Asked, TaskCompletionSource Release) gate;
        bool held;
        lock (_held) held = _held.TryGetValue(key, out gate);
        if (held)
        {
            gate.Asked.TrySetResult();
            await gate.Release.Task.WaitAsync(ct);
        }
        return await inner.GetBytesAsync(key, ct);
    }

    public Task<long> PutAsync(string key, byte[] data, CancellationToken ct = default) => inner.PutAsync(key, data, ct);

    public Task<long> PutFileAsync(string key, string path, CancellationToken ct = default) => inner.PutFileAsync(key, path, ct);

    public Task<long> PutFileRangeAsync(string key, string path, long offset, long length, CancellationToken ct = default) =>
        inner.PutFileRangeAsync(key, path, offset, length, ct);

    public Task<RentedBlob> GetRentedAsync(string key, CancellationToken ct = default) => inner.GetRentedAsync(key, ct);

    public Task<long> GetToFileAsync(string key, string path, CancellationToken ct = default) => inner.GetToFileAsync(key, path, ct);

    public Task<long> PutOwnedFileAsync(string key, string path, CancellationToken ct = default) => inner.PutOwnedFileAsync(key, path, ct);

    public Task<MapReduce.Storage.Blobs.StoredBlob> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default) =>
        inner.OpenReadAsync(key, offset, length, ct);
}
