namespace MapReduce.Actors.BlobClients;

/// <summary>
/// Blob reads and writes as workers, masters and the CLI make them, whatever holds the bytes: the
/// kvstore (its data channel, or its folder on its own machine: <see cref="BlobClient"/>) or an
/// object store that this process reaches itself (<see cref="DirectBlobClient"/>). Failures are
/// <see cref="KvStoreException"/>s whose message says what went wrong.
/// </summary>
public interface IBlobClient
{
    Task<long> PutAsync(string key, byte[] data, CancellationToken ct = default);

    Task<long> PutFileAsync(string key, string path, CancellationToken ct = default);

    /// <summary>
    /// Stores <paramref name="length"/> bytes of a file from <paramref name="offset"/> (a chunk of an
    /// input file); a file that changed meanwhile fails with <c>SourceChangedException</c>.
    /// </summary>
    Task<long> PutFileRangeAsync(string key, string path, long offset, long length, CancellationToken ct = default);

    /// <summary>
    /// Stores a file its writer no longer needs (a run, a part): on the kvstore's machine it is
    /// moved into the store rather than copied; elsewhere it is uploaded and may stay where it is.
    /// </summary>
    Task<long> PutOwnedFileAsync(string key, string path, CancellationToken ct = default);

    Task<byte[]> GetBytesAsync(string key, CancellationToken ct = default);

    /// <summary>A blob's bytes in a pooled buffer, to be disposed once used (a map task's chunks).</summary>
    Task<RentedBlob> GetRentedAsync(string key, CancellationToken ct = default);

    /// <summary>
    /// Opens a blob, or <paramref name="length"/> bytes of it from <paramref name="offset"/> (null: to
    /// its end; a range past the end is cut at it), as a stream to read while working: in place on
    /// the kvstore's machine (no copy), streamed over the data channel or from the object store
    /// elsewhere. The stream yields exactly <see cref="MapReduce.Storage.Blobs.StoredBlob.Length"/>
    /// bytes or fails with a <see cref="KvStoreException"/>; dispose it once read.
    /// </summary>
    Task<MapReduce.Storage.Blobs.StoredBlob> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default);

    /// <summary>Downloads a blob into a file (written to a temp name and renamed, so a crash never leaves half a file).</summary>
    Task<long> GetToFileAsync(string key, string path, CancellationToken ct = default);

    /// <summary>Downloads several blobs into files, at most <paramref name="parallelism"/> at a time.</summary>
    async Task GetToFilesAsync(IReadOnlyList<(string Key, string Path)> downloads, int parallelism, CancellationToken ct = default)
    {
        using var limit = new SemaphoreSlim(parallelism);
        await Task.WhenAll(downloads.Select(async d =>
        {
            await limit.WaitAsync(ct).ConfigureAwait(false);
            try { await GetToFileAsync(d.Key, d.Path, ct).ConfigureAwait(false); }
            finally { limit.Release(); }
        })).ConfigureAwait(false);
    }
}
