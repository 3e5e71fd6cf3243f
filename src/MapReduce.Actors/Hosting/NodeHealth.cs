using Akka.Cluster;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// What GET /healthz and /readyz answer (<see cref="HealthServer"/>), from the cluster as this node
/// sees it. Live: the process runs and is a member (joining, up or leaving). Ready: Up, and for a
/// worker, a master and a kvstore to work for that are Up and reachable (<see cref="RoleAvailability"/>);
/// a master or kvstore serves as soon as it is Up.
/// </summary>
public static class NodeHealth
{
    public sealed record Answer(bool Ok, string Text);

    public static Answer Live(MemberStatus? self) => self switch
    {
        null or MemberStatus.Down or MemberStatus.Removed => new(false, $"not a cluster member ({Describe(self)})"),
        _ => new(true, $"ok: {Describe(self)}"),
    };

    /// <param name="unreachable">Whether this node finds a member unreachable; null: none is.</param>
    public static Answer Ready(IReadOnlyList<string> roles, MemberStatus? self, IEnumerable<Member> members, Func<UniqueAddress, bool>? unreachable = null)
    {
        unreachable ??= _ => false;
        if (self != MemberStatus.Up) return new(false, $"not ready: this node is {Describe(self)}, not up");
        if (roles.Contains(NodeRoles.Worker) && !(roles.Contains(NodeRoles.Master) && roles.Contains(NodeRoles.KvStore)))
        {
            var all = members.ToList();
            if (!RoleAvailability.AnyUsable(all, NodeRoles.Master, unreachable)) return new(false, "not ready: no master is up");
            if (!RoleAvailability.AnyUsable(all, NodeRoles.KvStore, unreachable)) return new(false, "not ready: no kvstore is up");
        }
        return new(true, "ok: up");
    }

    public static Answer Live(Cluster cluster) => Live(SelfStatus(cluster));

    public static Answer Ready(Cluster cluster, IReadOnlyList<string> roles)
    {
        var state = cluster.State;
        return Ready(roles, SelfStatus(cluster), state.Members, RoleAvailability.Unreachable(state));
    }

    private static MemberStatus? SelfStatus(Cluster cluster) =>
        cluster.State.Members.FirstOrDefault(m => m.UniqueAddress.Equals(cluster.SelfUniqueAddress))?.Status;

    private static string Describe(MemberStatus? status) => status is { } s ? s.ToString().ToLowerInvariant() : "not joined yet";
}
