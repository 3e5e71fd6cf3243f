using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// Downs a cluster member at once when its process is gone, instead of after the failure detector
/// and the split-brain resolver (2-3 s of missed heartbeats, then 2 s of stability). When remoting
/// loses its connection to a member, this asks that member's host for a TCP connection to the
/// member's port: refused means the host is there and nothing listens, so the process died (killed,
/// crashed) and downing it is safe. A member that is only slow or paused (a long GC, SIGSTOP) still
/// accepts connections, and a host that is cut off or down does not answer at all: both are left to
/// the failure detector, whose patience is there for exactly them. A firewall that rejects
/// connections (with a TCP reset) looks like a dead process, though: so a member is downed only
/// when this node also reaches a majority of the cluster at that moment (the other members' ports
/// accept its connections). A node cut off behind such a firewall finds every port refused, reaches
/// no majority and downs nobody; the split-brain resolver decides for it as before. Every node runs
/// one; the downing is idempotent.
/// </summary>
public sealed class DeadPeerProbe : ReceiveActor
{
    /// <summary>How long a probe's connect may take before it counts as "no answer" (not as gone): a socket connect, not a wait anyone sizes, since a slow answer only leaves the decision to the failure detector.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    private sealed record Probed(Address Member, PeerState State, int Witnesses, int Members);

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<Address> _probing = [];

    public DeadPeerProbe()
    {
        Receive<DisassociatedEvent>(e => Probe(e.RemoteAddress));
        Receive<AssociationErrorEvent>(e => Probe(e.RemoteAddress));
        Receive<Probed>(m =>
        {
            _probing.Remove(m.Member);
            if (m.State != PeerState.Gone || MemberAt(m.Member) is not { } member) return;
            if (!HasMajority(m.Witnesses, m.Members))
            {
                _log.Warning("cluster member {0} refuses connections, but so do most of the others ({1} of {2} members answer here): leaving it to the failure detector",
                    m.Member, m.Witnesses + 1, m.Members);
                return;
            }
            _log.Warning("cluster member {0} is gone (its host refuses connections to its port): downing it at once", m.Member);
            _cluster.Down(m.Member);
            // The leader removes a downed member only once it is unreachable; quarantining the dead
            // incarnation marks it so here at once, instead of after the failure detector's patience.
            ((IRemoteActorRefProvider)((ExtendedActorSystem)Context.System).Provider).Quarantine(m.Member, member.UniqueAddress.Uid);
        });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new DeadPeerProbe());

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(AssociationEvent));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void Probe(Address member)
    {
        if (member.Host is null || member.Port is null || MemberAt(member) is null || !_probing.Add(member)) return;
        var others = _cluster.State.Members
            .Where(m => m.Address != member && m.Address != _cluster.SelfAddress && m.Status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up)
            .Select(m => m.Address).ToList();
        var members = others.Count + 2; // and this node, and the member probed
        ProbeAsync(member, others).PipeTo(Self, success: r => new Probed(member, r.State, r.Witnesses, members));
    }

    /// <summary>The member's state, and how many of the others answer (only asked when it is gone).</summary>
    private static async Task<(PeerState State, int Witnesses)> ProbeAsync(Address member, IReadOnlyList<Address> others)
    {
        var state = await StateOfAsync(member.Host!, member.Port!.Value, ConnectTimeout).ConfigureAwait(false);
        if (state != PeerState.Gone) return (state, 0);
        var answers = await Task.WhenAll(others.Where(o => o.Host is not null && o.Port is not null)
            .Select(o => StateOfAsync(o.Host!, o.Port!.Value, ConnectTimeout))).ConfigureAwait(false);
        return (state, answers.Count(a => a == PeerState.Listening));
    }

    /// <summary>Whether this node and the members that answered are more than half of all the members (the probed one included).</summary>
    public static bool HasMajority(int witnesses, int members) => 2 * (witnesses + 1) > members;

    /// <summary>
    /// The member at an address that is joining or up: the only ones worth downing (one leaving,
    /// exiting, downed or removed is on its way out already, as every node is when a cluster stops).
    /// </summary>
    private Member? MemberAt(Address address) =>
        _cluster.State.Members.FirstOrDefault(m => m.Address == address && m.Status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up);

    /// <summary>What a TCP connect to the host and port says about the process that listened there.</summary>
    public static async Task<PeerState> StateOfAsync(string host, int port, TimeSpan timeout)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var patience = new CancellationTokenSource(timeout);
        try
        {
            await socket.ConnectAsync(host, port, patience.Token).ConfigureAwait(false);
            return PeerState.Listening;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return PeerState.Gone;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return PeerState.NoAnswer;
        }
    }
}

/// <summary>What probing a member's port found.</summary>
public enum PeerState
{
    /// <summary>Something accepts connections there: the process lives (perhaps slowly).</summary>
    Listening,

    /// <summary>The host refused: nothing listens on the port, the process is gone.</summary>
    Gone,

    /// <summary>No answer in time, or the host cannot be reached: the failure detector decides.</summary>
    NoAnswer,
}
