using MapReduce.Actors.Hosting;

namespace MapReduce.Tests.Hosting;

public sealed class NetworkExposureTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.5")]
    [InlineData("::1")]
    [InlineData("localhost")]
    public void A_node_bound_to_loopback_warns_of_nothing(string host)
    {
        Assert.Null(NetworkExposure.Warning(host, hasToken: false));
        Assert.Null(NetworkExposure.Warning(host, hasToken: true));
    }

    [Fact]
    public void A_node_bound_beyond_loopback_without_TLS_says_what_is_exposed()
    {
        Assert.Equal("this node listens on 10.0.0.2 without TLS: Akka remoting, the control API and the kvstore's data channel are unencrypted; " +
            "no cluster token is set (mapreduce.auth.token or MAPREDUCE_TOKEN), so anyone who reaches the control API or the data channel can run code on every worker. " +
            "Set mapreduce.tls, bind to 127.0.0.1, or keep the nodes on a network only the cluster's users reach (SECURITY.md)",
            NetworkExposure.Warning("10.0.0.2", hasToken: false));
        Assert.Equal("this node listens on node1.example without TLS: Akka remoting, the control API and the kvstore's data channel are unencrypted; " +
            "anyone who can read the network sees the cluster token and the data, and any host that reaches the remoting port can join the cluster. " +
            "Set mapreduce.tls, bind to 127.0.0.1, or keep the nodes on a network only the cluster's users reach (SECURITY.md)",
            NetworkExposure.Warning("node1.example", hasToken: true));
    }

    [Fact]
    public void A_node_with_TLS_warns_only_when_it_asks_no_token()
    {
        Assert.Null(NetworkExposure.Warning("10.0.0.2", hasToken: true, hasTls: true));
        Assert.Equal("this node listens on 10.0.0.2 without a cluster token (mapreduce.auth.token or MAPREDUCE_TOKEN): anyone who reaches the control API or the data channel can run code on every worker. Set a token (SECURITY.md)",
            NetworkExposure.Warning("10.0.0.2", hasToken: false, hasTls: true));
    }
}
