namespace MapReduce.Actors.KvStore;

/// <summary>
/// Control messages of the kvstore actor (role kvstore, at /user/kvstore). Blob bytes do not travel
/// here: they go over the kvstore's HTTP data channel (<see cref="BlobHttpServer"/>), whose address
/// <see cref="GetDataEndpoint"/> tells.
/// </summary>
public static class KvStoreProtocol
{
    /// <summary>Asks where the kvstore serves blob bytes; answered with <see cref="DataEndpoint"/>.</summary>
    public sealed record GetDataEndpoint;

    /// <summary>
    /// Base URL of the kvstore's data channel, e.g. http://127.0.0.1:41234/, and where its blob
    /// folder is: a client on the same machine that finds <paramref name="StoreId"/> in that folder
    /// reads and writes the files directly (see <see cref="BlobClient"/>).
    /// </summary>
    public sealed record DataEndpoint(string BaseUrl, string StoreRoot, string StoreId);

    /// <summary>A request the kvstore could not serve (invalid key, I/O error); the message says why.</summary>
    public sealed record KvStoreFailure(string Message);

    public sealed record DocumentChunk(string DocId, int ChunkIndex, string ChunkKey, long Bytes);

    /// <summary>Records an uploaded dataset in the catalog once all its chunks are stored.</summary>
    public sealed record RegisterDataset(string DirId, string Source, int Documents, DocumentChunk[] Chunks);

    public sealed record DatasetRegistered(string DirId);

    public sealed record RegisterCode(string CodeId, string BlobKey, string Source);

    public sealed record CodeRegistered(string CodeId);
}
