using Akka.Cluster;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// The one answer to "is a member of this role (the kvstore, a master) up?": Up, and not
/// unreachable from this node. The master's <see cref="Master.RoleWatch"/> (jobs wait while the
/// kvstore is away), the workers' <see cref="BlobClients.KvStoreLocator.IsUp"/> (requests wait while
/// it is away) and <see cref="NodeHealth"/> (/readyz) all ask it.
/// </summary>
public static class RoleAvailability
{
    /// <param name="unreachable">Whether this node's failure detector finds the member unreachable.</param>
    public static bool IsUsable(Member member, Func<UniqueAddress, bool> unreachable) =>
        member.Status == MemberStatus.Up && !unreachable(member.UniqueAddress);

    public static bool AnyUsable(IEnumerable<Member> members, string role, Func<UniqueAddress, bool> unreachable) =>
        members.Any(m => m.HasRole(role) && IsUsable(m, unreachable));

    /// <summary>The same, from a cluster state (<see cref="Cluster.State"/>).</summary>
    public static bool AnyUsable(ClusterEvent.CurrentClusterState state, string role) =>
        AnyUsable(state.Members, role, Unreachable(state));

    public static Func<UniqueAddress, bool> Unreachable(ClusterEvent.CurrentClusterState state) =>
        address => state.Unreachable.Any(u => u.UniqueAddress.Equals(address));
}
