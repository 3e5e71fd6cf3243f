using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using MapReduce.Actors.Hosting;
using static MapReduce.Actors.StoreCheck.StoreCheckProtocol;

namespace MapReduce.Actors.StoreCheck;

/// <summary>
/// Refuses this node when its journal or catalog is not the cluster's (<see cref="StoreMismatch"/>):
/// two masters replaying different journals would lose jobs at a take-over without a word. Once
/// this node is Up it asks every older master and kvstore which stores they use; the first answer
/// that differs calls <c>refuse</c> with the reason, once. It also answers other nodes' questions.
/// </summary>
public sealed class StoreCheckActor : ReceiveActor
{
    public const string Name = "store-check";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private bool _refused;

    public StoreCheckActor(NodeStores mine, Action<string> refuse, bool checkWhenUp)
    {
        Receive<WhichStores>(_ => Sender.Tell(mine));
        Receive<CheckAgainst>(m =>
        {
            foreach (var path in m.OlderMembers) Context.ActorSelection(path).Tell(new WhichStores());
        });
        Receive<NodeStores>(theirs =>
        {
            if (_refused || StoreMismatch.Find(mine, theirs) is not { } reason) return;
            _refused = true;
            _log.Error("refused: {0}", reason);
            refuse(reason);
        });
        if (checkWhenUp)
        {
            var self = Self;
            var cluster = Cluster.Get(Context.System);
            cluster.RegisterOnMemberUp(() => self.Tell(new CheckAgainst(OlderMembers(cluster))));
        }
    }

    /// <summary>The store-check actors of the Up masters and kvstores older than this node: theirs are the cluster's stores.</summary>
    private static IReadOnlyList<ActorPath> OlderMembers(Cluster cluster)
    {
        var state = cluster.State;
        var self = state.Members.FirstOrDefault(m => m.UniqueAddress.Equals(cluster.SelfUniqueAddress));
        if (self is null) return [];
        return state.Members
            .Where(m => m.Status == MemberStatus.Up && !m.UniqueAddress.Equals(self.UniqueAddress) && m.IsOlderThan(self)
                        && (m.HasRole(NodeRoles.Master) || m.HasRole(NodeRoles.KvStore)))
            .Select(m => (ActorPath)(new RootActorPath(m.Address) / "user" / Name))
            .ToList();
    }

    public static Props Props(NodeStores mine, Action<string> refuse, bool checkWhenUp = true) =>
        Akka.Actor.Props.Create(() => new StoreCheckActor(mine, refuse, checkWhenUp));
}
