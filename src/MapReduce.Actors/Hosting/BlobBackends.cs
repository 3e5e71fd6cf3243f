using MapReduce.Actors.BlobClients;
using MapReduce.Storage.Blobs;

namespace MapReduce.Actors.Hosting;

/// <summary>Chooses, from <c>mapreduce.blob-store</c>, the store a kvstore node serves and the client other nodes' blob bytes go through.</summary>
public static class BlobBackends
{
    /// <summary>The kvstore's store: its folder (owned, locked), or the object store.</summary>
    public static IBlobStore ForKvStore(BlobStoreSettings settings, string kvstoreFolder) => settings.Kind switch
    {
        BlobStoreKind.S3 => new S3BlobStore(settings.S3!),
        _ => new LocalBlobStore(kvstoreFolder),
    };

    /// <summary>
    /// Why a node cannot use the configured blob store, in one line naming what to set, or null
    /// when it can: with <c>kind = s3</c>, whether the bucket exists and the credentials may list
    /// it (the kvstore's folder is made and locked when the kvstore opens it).
    /// </summary>
    public static Task<string?> ProblemAsync(BlobStoreSettings settings, CancellationToken ct = default) => settings.Kind switch
    {
        BlobStoreKind.S3 => S3BlobStore.BucketProblemAsync(settings.S3!, settings.StartPatience, ct),
        _ => Task.FromResult<string?>(null),
    };

    /// <summary>
    /// How a cluster node reads and writes blobs: straight in the object store, or through the
    /// kvstore (its data channel, or its folder on its machine).
    /// </summary>
    /// <param name="token">The cluster token the kvstore's data channel asks for (the object store has credentials of its own).</param>
    /// <param name="serverCheck">How the data channel's HTTPS certificate is judged.</param>
    public static IBlobClient ClientFor(BlobStoreSettings settings, IDataChannel kvstore, Action<string> log, bool shortCircuit, string? token, ServerCertificateCheck serverCheck, KvStoreClientSettings kvstoreClient) => settings.Kind switch
    {
        BlobStoreKind.S3 => new DirectBlobClient(new S3BlobStore(settings.S3!), log),
        _ => new BlobClient(kvstore, log, shortCircuit, token, serverCheck, kvstoreClient),
    };
}
