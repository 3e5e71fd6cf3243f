using MapReduce.Actors.BlobClients;
using MapReduce.Storage.Blobs;

namespace MapReduce.Tests.Support;

/// <summary>A blob client that hands every call to <paramref name="inner"/>: a test's wrapper overrides only the calls it watches or breaks.</summary>
public abstract class ForwardingBlobClient(IBlobClient inner) : IBlobClient
{
    public virtual Task<long> PutAsync(string key, byte[] data, CancellationToken ct = default) => inner.PutAsync(key, data, ct);

    public virtual Task<long> PutFileAsync(string key, string path, CancellationToken ct = default) => inner.PutFileAsync(key, path, ct);

    public virtual Task<long> PutFileRangeAsync(string key, string path, long offset, long length, CancellationToken ct = default) =>
        inner.PutFileRangeAsync(key, path, offset, length, ct);

    public virtual Task<long> PutOwnedFileAsync(string key, string path, CancellationToken ct = default) => inner.PutOwnedFileAsync(key, path, ct);

    public virtual Task<byte[]> GetBytesAsync(string key, CancellationToken ct = default) => inner.GetBytesAsync(key, ct);

    public virtual Task<RentedBlob> GetRentedAsync(string key, CancellationToken ct = default) => inner.GetRentedAsync(key, ct);

    public virtual Task<StoredBlob> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default) =>
        inner.OpenReadAsync(key, offset, length, ct);

    public virtual Task<long> GetToFileAsync(string key, string path, CancellationToken ct = default) => inner.GetToFileAsync(key, path, ct);
}
