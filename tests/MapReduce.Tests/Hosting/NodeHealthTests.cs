using System.Collections.Immutable;
using System.Reflection;
using Akka.Actor;
using Akka.Cluster;
using Akka.Util;
using MapReduce.Actors.Hosting;

namespace MapReduce.Tests.Hosting;

/// <summary>
/// /readyz of a worker and <see cref="RoleAvailability"/>, the one test of "is a member of this role
/// up" that RoleWatch and KvStoreLocator use too: Up and reachable, a member that is unreachable or
/// not Up yet does not count.
/// </summary>
public sealed class NodeHealthTests
{
    private static readonly string[] Worker = [NodeRoles.Worker];

    private static readonly Member Master = Create(4001, MemberStatus.Up, NodeRoles.Master);
    private static readonly Member KvStore = Create(4002, MemberStatus.Up, NodeRoles.KvStore);

    private static Func<UniqueAddress, bool> UnreachableAre(params Member[] members) => address => members.Any(m => m.UniqueAddress.Equals(address));

    [Fact]
    public void A_worker_is_ready_when_a_master_and_a_kvstore_are_up_and_reachable() =>
        Assert.Equal(new NodeHealth.Answer(true, "ok: up"), NodeHealth.Ready(Worker, MemberStatus.Up, [Master, KvStore], UnreachableAre()));

    [Fact]
    public void An_unreachable_kvstore_or_master_is_not_up()
    {
        Assert.Equal(new NodeHealth.Answer(false, "not ready: no kvstore is up"), NodeHealth.Ready(Worker, MemberStatus.Up, [Master, KvStore], UnreachableAre(KvStore)));
        Assert.Equal(new NodeHealth.Answer(false, "not ready: no master is up"), NodeHealth.Ready(Worker, MemberStatus.Up, [Master, KvStore], UnreachableAre(Master)));
    }

    [Fact]
    public void A_kvstore_still_joining_is_not_up() =>
        Assert.Equal(new NodeHealth.Answer(false, "not ready: no kvstore is up"),
            NodeHealth.Ready(Worker, MemberStatus.Up, [Master, Create(4002, MemberStatus.Joining, NodeRoles.KvStore)], UnreachableAre()));

    [Fact]
    public void A_master_node_serves_as_soon_as_it_is_up() =>
        Assert.Equal(new NodeHealth.Answer(true, "ok: up"), NodeHealth.Ready([NodeRoles.Master], MemberStatus.Up, [], UnreachableAre()));

    [Fact]
    public void One_reachable_member_of_the_role_is_enough()
    {
        var second = Create(4003, MemberStatus.Up, NodeRoles.KvStore);
        Assert.True(RoleAvailability.AnyUsable([KvStore, second], NodeRoles.KvStore, UnreachableAre(KvStore)));
        Assert.False(RoleAvailability.AnyUsable([KvStore, second], NodeRoles.KvStore, UnreachableAre(KvStore, second)));
        Assert.False(RoleAvailability.AnyUsable([Master], NodeRoles.KvStore, UnreachableAre()));
    }

    /// <summary>Akka.Cluster makes members only internally; the factory it uses for them is called as it is.</summary>
    private static Member Create(int port, MemberStatus status, string role)
    {
        var create = typeof(Member).GetMethod("Create", BindingFlags.NonPublic | BindingFlags.Static,
            [typeof(UniqueAddress), typeof(int), typeof(MemberStatus), typeof(ImmutableHashSet<string>), typeof(AppVersion)])
            ?? throw new MissingMethodException("Akka.Cluster.Member.Create(UniqueAddress, int, MemberStatus, roles, AppVersion)");
        var address = new UniqueAddress(new Address("akka.tcp", "mapreduce", "127.0.0.1", port), 1);
        return (Member)create.Invoke(null, [address, 1, status, ImmutableHashSet.Create(role), AppVersion.Zero])!;
    }
}
