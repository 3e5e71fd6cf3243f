using System.Security.Cryptography.X509Certificates;

namespace MapReduce.Actors.Hosting;

/// <summary>A node's TLS identity: its certificate (with private key), and the CA its peers' certificates must chain to.</summary>
public sealed record ClusterTls(X509Certificate2 Certificate, ClusterTrust Trust);
