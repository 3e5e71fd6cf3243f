using Akka.Actor;
using Akka.Cluster;
using MapReduce.Actors.Hosting;

namespace MapReduce.Actors.Master;

/// <summary>
/// The master's child that watches the cluster for the members of one role (the kvstore) and
/// tells its parent when none of them is usable any more (<see cref="RoleAway"/>: no member of the
/// role is Up and reachable) and when one is again (<see cref="RoleBack"/>). It reports its first
/// view at once (a master that takes over while the kvstore is away learns it then), and after that
/// only changes. Membership comes from Akka's cluster events: a SIGKILLed kvstore is unreachable
/// after 2-3 s, then downed and removed; a kvstore started again joins as a new member and is back
/// once it is Up.
/// </summary>
public sealed class RoleWatch : ReceiveActor
{
    /// <summary>No member of <see cref="Role"/> is Up and reachable; <see cref="Reason"/> says why, for people.</summary>
    public sealed record RoleAway(string Role, string Reason);

    /// <summary>A member of <see cref="Role"/> is Up and reachable (again).</summary>
    public sealed record RoleBack(string Role);

    public const string Unreachable = "unreachable";
    public const string NotInCluster = "not in the cluster";

    private readonly string _role;
    private readonly Dictionary<UniqueAddress, Member> _members = new();
    private readonly HashSet<UniqueAddress> _unreachable = [];
    private bool? _available;

    public RoleWatch(string role)
    {
        _role = role;
        Receive<ClusterEvent.CurrentClusterState>(state =>
        {
            _members.Clear();
            _unreachable.Clear();
            foreach (var m in state.Members.Where(m => m.HasRole(role))) _members[m.UniqueAddress] = m;
            foreach (var m in state.Unreachable.Where(m => m.HasRole(role))) _unreachable.Add(m.UniqueAddress);
            Report();
        });
        Receive<ClusterEvent.IMemberEvent>(e =>
        {
            if (!e.Member.HasRole(role)) return;
            if (e is ClusterEvent.MemberRemoved)
            {
                _members.Remove(e.Member.UniqueAddress);
                _unreachable.Remove(e.Member.UniqueAddress);
            }
            else _members[e.Member.UniqueAddress] = e.Member;
            Report();
        });
        Receive<ClusterEvent.UnreachableMember>(e =>
        {
            if (!e.Member.HasRole(role)) return;
            _unreachable.Add(e.Member.UniqueAddress);
            Report();
        });
        Receive<ClusterEvent.ReachableMember>(e =>
        {
            if (!e.Member.HasRole(role)) return;
            _unreachable.Remove(e.Member.UniqueAddress);
            Report();
        });
    }

    public static Props Props(string role) => Akka.Actor.Props.Create(() => new RoleWatch(role));

    protected override void PreStart() =>
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    private void Report()
    {
        var available = RoleAvailability.AnyUsable(_members.Values, _role, _unreachable.Contains);
        if (available == _available) return;
        _available = available;
        Context.Parent.Tell(available
            ? new RoleBack(_role)
            : new RoleAway(_role, _members.Keys.Any(_unreachable.Contains) ? Unreachable : NotInCluster));
    }
}
