using Akka.Actor;
using Akka.Cluster;
using MapReduce.Actors.Hosting;
using MapReduce.Storage.Blobs;
using static MapReduce.Actors.Protocol.KvStoreProtocol;

namespace MapReduce.Actors.BlobClients;

/// <summary>
/// Finds the kvstore in the cluster: the actor on the oldest Up member with role kvstore, the URL
/// of its data channel and, when this process can see it, its blob folder. Waits for one to appear
/// (a node may start before the kvstore has joined, or the kvstore is being restarted), up to the
/// timeout given, then fails with <see cref="KvStoreUnreachableException"/>. All are cached per member
/// incarnation, so a kvstore restarted on the same address (with a new data port) is found anew.
/// </summary>
/// <param name="time">The clock of a lookup's deadline and its pauses (null: the system's).</param>
public sealed class KvStoreLocator(ActorSystem system, TimeProvider? time = null) : IDataChannel
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>One question to a kvstore member that is Up; the lookup asks again until its own timeout (mapreduce.kvstore.locate-timeout), which is the setting: this only paces it.</summary>
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(3);

    private sealed record Located(UniqueAddress Member, IActorRef Actor, Uri DataUrl, LocalBlobStore? LocalStore);

    private volatile Located? _cached;

    public async Task<IActorRef> ResolveAsync(TimeSpan timeout, CancellationToken ct = default) =>
        (await LocateAsync(timeout, ct).ConfigureAwait(false)).Actor;

    /// <summary>Base URL of the kvstore's data channel, e.g. http://127.0.0.1:41234/.</summary>
    public async Task<Uri> ResolveDataUrlAsync(TimeSpan timeout, CancellationToken ct = default) =>
        (await LocateAsync(timeout, ct).ConfigureAwait(false)).DataUrl;

    /// <summary>The kvstore's blob folder when this process sees it (same machine), else null.</summary>
    public async Task<LocalBlobStore?> ResolveLocalStoreAsync(TimeSpan timeout, CancellationToken ct = default) =>
        (await LocateAsync(timeout, ct).ConfigureAwait(false)).LocalStore;

    /// <summary>Forgets the cached kvstore; called when its data channel cannot be reached, so the next request looks again.</summary>
    public void Invalidate() => _cached = null;

    /// <summary>Whether this node sees a kvstore member that is Up and reachable: while none is, a request for it can only wait.</summary>
    public bool IsUp => RoleAvailability.AnyUsable(Cluster.Get(system).State, NodeRoles.KvStore);

    private async Task<Located> LocateAsync(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = _time.GetUtcNow() + timeout;
        var cluster = Cluster.Get(system);
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var member = cluster.State.Members
                .Where(m => m.HasRole(NodeRoles.KvStore) && m.Status == MemberStatus.Up)
                .OrderBy(m => m, Member.AgeOrdering)
                .FirstOrDefault();
            if (member is not null)
            {
                if (_cached is { } cached && cached.Member.Equals(member.UniqueAddress)) return cached;
                try
                {
                    var selection = system.ActorSelection(new RootActorPath(member.Address) / "user" / "kvstore");
                    var actor = await selection.ResolveOne(AskTimeout, ct).ConfigureAwait(false);
                    var endpoint = await actor.Ask<DataEndpoint>(new GetDataEndpoint(), AskTimeout, ct).ConfigureAwait(false);
                    var local = LocalBlobStore.TryAttach(endpoint.StoreRoot, endpoint.StoreId);
                    var located = new Located(member.UniqueAddress, actor, new Uri(endpoint.BaseUrl), local);
                    _cached = located;
                    return located;
                }
                catch (Exception e) when (e is ActorNotFoundException or AskTimeoutException) { }
            }
            if (_time.GetUtcNow() > deadline)
                throw new KvStoreUnreachableException($"no kvstore node is up in the cluster after {timeout.TotalSeconds:0} s");
            await Task.Delay(TimeSpan.FromMilliseconds(200), _time, ct).ConfigureAwait(false); // a new look at the membership, not a wait anyone sizes
        }
    }
}
