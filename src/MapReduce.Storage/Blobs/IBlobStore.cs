namespace MapReduce.Storage.Blobs;

/// <summary>
/// Where the cluster's blobs live, as the kvstore and the clients that write straight into it see
/// it: the kvstore's folder (<see cref="LocalBlobStore"/>) or an object store
/// (<see cref="S3BlobStore"/>). Every write is all or nothing: a reader sees either no blob or the
/// whole of it. Another backend (Azure Blob, say) is one more class.
/// </summary>
public interface IBlobStore
{
    /// <summary>Where the blobs are, for logs ("the folder /x", "bucket b at http://...").</summary>
    string Location { get; }

    Task<bool> ExistsAsync(string key, CancellationToken ct = default);

    /// <summary>
    /// Stores exactly <paramref name="length"/> bytes of <paramref name="data"/> under the key,
    /// published only once complete. Blobs are written once: when the key holds a blob, the same
    /// bytes again (a retried upload) succeed and change nothing, other bytes throw
    /// <see cref="BlobConflictException"/>, as does a script under <c>code/</c> that does not hash
    /// to its id (<see cref="CodeBlob"/>). A blob under <c>jobs/JOB/</c> once the job's end marker is
    /// stored is deleted again and refused with <see cref="JobEndedException"/> (<see cref="JobFence"/>).
    /// </summary>
    Task<long> PutAsync(string key, Stream data, long length, CancellationToken ct = default);

    /// <summary>The blob's bytes and length, or null when there is no such blob.</summary>
    Task<StoredBlob?> OpenReadAsync(string key, CancellationToken ct = default);

    /// <summary>
    /// <paramref name="length"/> bytes of the blob from <paramref name="offset"/> (null: to its end),
    /// or null when there is no such blob; <see cref="StoredBlob.Length"/> is the range's length. A
    /// range past the blob's end is cut at it.
    /// </summary>
    Task<StoredBlob?> OpenReadAsync(string key, long offset, long? length, CancellationToken ct = default);

    /// <summary>Deletes these blobs (a missing one is skipped); returns how many it deleted and their bytes.</summary>
    Task<(int Blobs, long Bytes)> DeleteAllAsync(IReadOnlyCollection<string> keys, CancellationToken ct = default);

    /// <summary>Deletes every blob under a key prefix ("jobs/job-1/map"); returns how many.</summary>
    Task<int> DeleteFolderAsync(string prefix, CancellationToken ct = default);

    /// <summary>Removes what writers that died left behind and nobody touched for <paramref name="idle"/>; returns how many.</summary>
    Task<int> SweepAbandonedAsync(TimeSpan idle, CancellationToken ct = default);
}

/// <summary>An open blob: its bytes, to be disposed once read, and how many there are.</summary>
public sealed record StoredBlob(Stream Content, long Length) : IDisposable, IAsyncDisposable
{
    public void Dispose() => Content.Dispose();

    public ValueTask DisposeAsync() => Content.DisposeAsync();
}

/// <summary>The blob store failed (the object store refused or could not be reached); the message says why.</summary>
public sealed class BlobStoreException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>Where a byte range of a blob starts and how long it is, cut at the blob's end.</summary>
public static class BlobRange
{
    public static (long Start, long Count) Clamp(long offset, long? length, long blobLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is < 0) throw new ArgumentOutOfRangeException(nameof(length));
        var start = Math.Min(offset, blobLength);
        var count = Math.Min(length ?? long.MaxValue, blobLength - start);
        return (start, count);
    }
}
