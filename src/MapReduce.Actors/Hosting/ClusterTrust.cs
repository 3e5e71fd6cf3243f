using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// Whom the cluster trusts: exactly the certificates that chain to its own CA (not the machine's
/// trusted roots, which would let any publicly certified host join). Host names are not checked:
/// nodes are reached by address and come and go, so holding a certificate the cluster's CA signed
/// is what makes a peer a member, as with Akka's <c>validate-certificate-hostname = false</c>.
/// </summary>
public sealed class ClusterTrust
{
    private readonly X509Certificate2Collection _authorities;

    private ClusterTrust(X509Certificate2Collection authorities, string source)
    {
        _authorities = authorities;
        Source = source;
    }

    /// <summary>The CA file, for messages.</summary>
    public string Source { get; }

    public static ClusterTrust Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new ConfigurationException($"mapreduce.tls.ca: file {full} does not exist");
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(full);
            if (authorities.Count == 0) authorities.Add(X509CertificateLoader.LoadCertificateFromFile(full));
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new ConfigurationException($"mapreduce.tls.ca: cannot read {full} as PEM or DER certificates ({e.Message.TrimEnd('.')})");
        }
        return new ClusterTrust(authorities, full);
    }

    /// <summary>Null when <paramref name="certificate"/> chains to the cluster's CA, else why not.</summary>
    /// <param name="presented">The chain the peer sent, for its intermediate certificates.</param>
    public string? Problem(X509Certificate2? certificate, X509Chain? presented = null)
    {
        if (certificate is null) return "no certificate was presented";
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
            foreach (var element in presented.ChainElements.Skip(1)) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        if (chain.Build(certificate)) return null;
        var reasons = chain.ChainStatus.Select(s => s.StatusInformation.Trim().TrimEnd('.')).Where(s => s.Length > 0).Distinct();
        return $"the certificate {certificate.Subject} (issued by {certificate.Issuer}) does not chain to the cluster's CA in {Source}: {string.Join("; ", reasons)}";
    }

    /// <summary>For Akka remoting, both ways (mutual authentication): the peer is refused, and the refusal logged, unless its certificate chains to the CA.</summary>
    public CertificateValidationCallback ForRemoting() => (certificate, chain, peer, _, log) =>
    {
        if (Problem(certificate, chain) is not { } problem) return true;
        log.Warning("refused a TLS connection with {0}: {1}", peer, problem);
        return false;
    };
}
