using System.Net;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// What a node bound beyond the loopback interface exposes, said once in its log: without TLS
/// (mapreduce.tls) its remoting and HTTP traffic are unencrypted and any host that reaches the
/// remoting port can join; without a cluster token anyone who reaches its HTTP ports may submit
/// code. Nodes bound to 127.0.0.1 (the default) reach only this machine.
/// </summary>
public static class NetworkExposure
{
    /// <summary>The warning for a node bound to <paramref name="host"/>, or null when it is bound to loopback or has both TLS and a token.</summary>
    public static string? Warning(string host, bool hasToken, bool hasTls = false)
    {
        if (IsLoopback(host) || (hasToken && hasTls)) return null;
        if (hasTls)
            return $"this node listens on {host} without a cluster token (mapreduce.auth.token or MAPREDUCE_TOKEN): anyone who reaches the control API or the data channel can run code on every worker. Set a token (SECURITY.md)";
        var who = hasToken
            ? "anyone who can read the network sees the cluster token and the data, and any host that reaches the remoting port can join the cluster"
            : "no cluster token is set (mapreduce.auth.token or MAPREDUCE_TOKEN), so anyone who reaches the control API or the data channel can run code on every worker";
        return $"this node listens on {host} without TLS: Akka remoting, the control API and the kvstore's data channel are unencrypted; {who}. " +
            "Set mapreduce.tls, bind to 127.0.0.1, or keep the nodes on a network only the cluster's users reach (SECURITY.md)";
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
}
