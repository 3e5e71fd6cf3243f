using MapReduce.Actors.Protocol;
using MapReduce.Storage.Blobs;

namespace MapReduce.Actors.BlobClients;

/// <summary>
/// Where blob bytes go: the kvstore's data channel and, on its machine, its folder. Cluster nodes
/// find it through the cluster (<see cref="KvStoreLocator"/>); the CLI is told it by the control
/// API (<see cref="FixedDataChannel"/>).
/// </summary>
public interface IDataChannel
{
    /// <summary>Base URL of the kvstore's data channel, e.g. http://127.0.0.1:41234/.</summary>
    Task<Uri> ResolveDataUrlAsync(TimeSpan timeout, CancellationToken ct = default);

    /// <summary>The kvstore's blob folder when this process sees it (same machine), else null.</summary>
    Task<LocalBlobStore?> ResolveLocalStoreAsync(TimeSpan timeout, CancellationToken ct = default);

    /// <summary>Forgets what was found; called when the data channel cannot be reached, so the next request looks again.</summary>
    void Invalidate();
}

/// <summary>A data channel whose address is known: what the control API's <c>GET /api/store</c> answered.</summary>
public sealed class FixedDataChannel(KvStoreProtocol.DataEndpoint endpoint) : IDataChannel
{
    private readonly Lazy<LocalBlobStore?> _local = new(() => LocalBlobStore.TryAttach(endpoint.StoreRoot, endpoint.StoreId));

    public Task<Uri> ResolveDataUrlAsync(TimeSpan timeout, CancellationToken ct = default) => Task.FromResult(new Uri(endpoint.BaseUrl));

    public Task<LocalBlobStore?> ResolveLocalStoreAsync(TimeSpan timeout, CancellationToken ct = default) => Task.FromResult(_local.Value);

    public void Invalidate() { }
}
