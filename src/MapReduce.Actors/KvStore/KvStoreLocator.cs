using Akka.Actor;
using Akka.Cluster;
using MapReduce.Actors.Hosting;

namespace MapReduce.Actors.KvStore;

/// <summary>
/// Finds the kvstore actor in the cluster: the one on the oldest Up member with role kvstore.
/// Waits for one to appear (a node may start before the kvstore has joined).
/// </summary>
public sealed class KvStoreLocator(ActorSystem system)
{
    private IActorRef? _cached;
    private Address? _cachedAddress;

    public async Task<IActorRef> ResolveAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + timeout;
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
                if (_cached is not null && member.Address.Equals(_cachedAddress)) return _cached;
                try
                {
                    var selection = system.ActorSelection(new RootActorPath(member.Address) / "user" / "kvstore");
                    _cached = await selection.ResolveOne(TimeSpan.FromSeconds(3), ct).ConfigureAwait(false);
                    _cachedAddress = member.Address;
                    return _cached;
                }
                catch (ActorNotFoundException) { }
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no kvstore node is up in the cluster after {timeout.TotalSeconds:0} s");
            await Task.Delay(200, ct).ConfigureAwait(false);
        }
    }
}
