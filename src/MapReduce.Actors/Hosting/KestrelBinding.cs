using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MapReduce.Actors.Hosting;

/// <summary>How the node's HTTP servers (data channel, control API) bind: to the node's --host, as its Akka remoting does.</summary>
public static class KestrelBinding
{
    public static void Listen(KestrelServerOptions kestrel, string host, int port)
    {
        kestrel.AddServerHeader = false;
        if (IPAddress.TryParse(host, out var ip)) kestrel.Listen(ip, port);
        else if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) kestrel.Listen(IPAddress.Loopback, port);
        else kestrel.ListenAnyIP(port);
    }
}
