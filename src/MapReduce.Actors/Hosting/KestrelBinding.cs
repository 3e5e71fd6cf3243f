using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MapReduce.Actors.Hosting;

/// <summary>How the node's HTTP servers bind: to the node's --host, as its Akka remoting does, with HTTPS when the node has a certificate.</summary>
public static class KestrelBinding
{
    public static void Listen(KestrelServerOptions kestrel, string host, int port, X509Certificate2? certificate = null)
    {
        kestrel.AddServerHeader = false;
        Action<ListenOptions> https = listen =>
        {
            if (certificate is not null) listen.UseHttps(certificate);
        };
        if (IPAddress.TryParse(host, out var ip)) kestrel.Listen(ip, port, https);
        else if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) kestrel.Listen(IPAddress.Loopback, port, https);
        else kestrel.ListenAnyIP(port, https);
    }
}
