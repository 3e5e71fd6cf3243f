using System.Collections.Immutable;
using System.Reflection;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Util;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Master;

namespace MapReduce.Tests.Master;

/// <summary>
/// <see cref="RoleWatch"/> on the cluster events the master's node would see: this node never
/// joins, so the first view has no kvstore, and the kvstore's comings and goings are the member
/// and reachability events sent to the watch. Its parent is the test actor.
/// </summary>
public sealed class RoleWatchTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("""
    akka.loglevel = WARNING
    akka.actor.provider = cluster
    akka.remote.dot-netty.tcp.hostname = 127.0.0.1
    akka.remote.dot-netty.tcp.port = 0
    akka.cluster.log-info = off
    """))
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);

    [Fact]
    public void Reports_its_first_view_then_only_changes_of_whether_a_member_of_the_role_is_up_and_reachable()
    {
        var watch = ChildActorOf(RoleWatch.Props(NodeRoles.KvStore));
        ExpectMsg(new RoleWatch.RoleAway(NodeRoles.KvStore, RoleWatch.NotInCluster));

        var kvstore = Member(4001, MemberStatus.Joining, NodeRoles.KvStore);
        watch.Tell(new ClusterEvent.MemberJoined(kvstore));
        ExpectNoMsg(Quiet); // joining is not up
        watch.Tell(new ClusterEvent.MemberUp(kvstore.Copy(MemberStatus.Up)));
        ExpectMsg(new RoleWatch.RoleBack(NodeRoles.KvStore));

        // A worker coming and going says nothing about the kvstore.
        var worker = Member(4002, MemberStatus.Up, NodeRoles.Worker);
        watch.Tell(new ClusterEvent.MemberUp(worker));
        watch.Tell(new ClusterEvent.UnreachableMember(worker));
        ExpectNoMsg(Quiet);

        watch.Tell(new ClusterEvent.UnreachableMember(kvstore));
        ExpectMsg(new RoleWatch.RoleAway(NodeRoles.KvStore, RoleWatch.Unreachable));
        watch.Tell(new ClusterEvent.UnreachableMember(kvstore)); // the same again is no change
        ExpectNoMsg(Quiet);
        watch.Tell(new ClusterEvent.ReachableMember(kvstore));
        ExpectMsg(new RoleWatch.RoleBack(NodeRoles.KvStore));
    }

    [Fact]
    public void A_kvstore_downed_and_removed_is_away_until_its_successor_is_up()
    {
        var watch = ChildActorOf(RoleWatch.Props(NodeRoles.KvStore));
        ExpectMsg<RoleWatch.RoleAway>();
        var old = Member(4001, MemberStatus.Up, NodeRoles.KvStore);
        watch.Tell(new ClusterEvent.MemberUp(old));
        ExpectMsg(new RoleWatch.RoleBack(NodeRoles.KvStore));

        watch.Tell(new ClusterEvent.UnreachableMember(old));
        ExpectMsg(new RoleWatch.RoleAway(NodeRoles.KvStore, RoleWatch.Unreachable));
        watch.Tell(new ClusterEvent.MemberRemoved(old.Copy(MemberStatus.Removed), MemberStatus.Down));
        ExpectNoMsg(Quiet); // still away; only the reason a new look would give has changed

        // The restarted kvstore: same host and port, a new incarnation (uid).
        var successor = Member(4001, MemberStatus.Joining, NodeRoles.KvStore, uid: 2);
        watch.Tell(new ClusterEvent.MemberJoined(successor));
        ExpectNoMsg(Quiet);
        watch.Tell(new ClusterEvent.MemberUp(successor.Copy(MemberStatus.Up)));
        ExpectMsg(new RoleWatch.RoleBack(NodeRoles.KvStore));

        // Leaving on purpose (SIGTERM) ends in removal too.
        watch.Tell(new ClusterEvent.MemberLeft(successor.Copy(MemberStatus.Leaving)));
        ExpectMsg(new RoleWatch.RoleAway(NodeRoles.KvStore, RoleWatch.NotInCluster));
    }

    /// <summary>Akka.Cluster makes members only internally; the factory it uses for them is called as it is.</summary>
    private static Member Member(int port, MemberStatus status, string role, int uid = 1)
    {
        var create = typeof(Member).GetMethod("Create", BindingFlags.NonPublic | BindingFlags.Static,
            [typeof(UniqueAddress), typeof(int), typeof(MemberStatus), typeof(ImmutableHashSet<string>), typeof(AppVersion)])
            ?? throw new MissingMethodException("Akka.Cluster.Member.Create(UniqueAddress, int, MemberStatus, roles, AppVersion)");
        var address = new UniqueAddress(new Address("akka.tcp", "mapreduce", "127.0.0.1", port), uid);
        return (Member)create.Invoke(null, [address, 1, status, ImmutableHashSet.Create(role), AppVersion.Zero])!;
    }
}
