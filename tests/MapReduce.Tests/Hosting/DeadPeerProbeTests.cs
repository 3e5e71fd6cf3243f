using System.Net;
using System.Net.Sockets;
using MapReduce.Actors.Hosting;

namespace MapReduce.Tests.Hosting;

/// <summary>What a probe of a member's port concludes: only a refused connection means its process is gone.</summary>
public class DeadPeerProbeTests
{
    [Fact]
    public async Task A_port_that_something_listens_on_is_listening_even_when_nothing_accepts()
    {
        // A paused process (SIGSTOP, a long GC) accepts nothing, but its kernel still completes the handshake.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Assert.Equal(PeerState.Listening, await DeadPeerProbe.StateOfAsync("127.0.0.1", port, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_port_nothing_listens_on_any_more_is_gone()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        Assert.Equal(PeerState.Gone, await DeadPeerProbe.StateOfAsync("127.0.0.1", port, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_host_that_does_not_answer_in_time_is_left_to_the_failure_detector()
    {
        // A listener whose backlog is full and who accepts nothing: further connects wait (the kernel drops their SYNs).
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var held = new List<Socket>();
        try
        {
            // Fill the backlog: connect (and keep) until a connect no longer completes in time.
            while (held.Count < 256)
            {
                var s = new Socket(SocketType.Stream, ProtocolType.Tcp);
                held.Add(s);
                using var patience = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
                try
                {
                    await s.ConnectAsync(IPAddress.Loopback, port, patience.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            Assert.Equal(PeerState.NoAnswer, await DeadPeerProbe.StateOfAsync("127.0.0.1", port, TimeSpan.FromMilliseconds(300)));
        }
        finally
        {
            foreach (var s in held) s.Dispose();
        }
    }
}

public class DeadPeerMajorityTests
{
    [Theory]
    [InlineData(0, 2, false)] // two members: a refusal might be a firewall's, and each side would down the other
    [InlineData(0, 3, false)] // three members, nobody else answers: this node may be the one cut off
    [InlineData(1, 3, true)]
    [InlineData(1, 5, false)]
    [InlineData(2, 5, true)]
    [InlineData(2, 6, false)] // half is not a majority
    [InlineData(3, 6, true)]
    public void A_member_is_downed_only_by_a_node_that_reaches_a_majority(int witnesses, int members, bool downs) =>
        Assert.Equal(downs, DeadPeerProbe.HasMajority(witnesses, members));
}
