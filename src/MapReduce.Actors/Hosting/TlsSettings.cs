using Akka.Configuration;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// The <c>mapreduce.tls</c> section: where a node's certificate and the cluster's CA are. With a
/// certificate, a node speaks TLS everywhere: Akka remoting with mutual authentication (a peer
/// without a certificate signed by the CA cannot join) and HTTPS on the control API, the status
/// page and the kvstore's data channel. A client (the CLI) needs only the CA.
/// </summary>
/// <param name="CertificatePath">A PKCS#12 file (.pfx, .p12) or a PEM certificate; null: no TLS.</param>
/// <param name="KeyPath">The PEM private key of a PEM certificate (null: in the certificate's file).</param>
/// <param name="Password">The PKCS#12 file's password, or the encrypted PEM key's.</param>
/// <param name="CaPath">PEM (or DER) certificates of the CA that signed the cluster's certificates.</param>
public sealed record TlsSettings(string? CertificatePath, string? KeyPath, string? Password, string? CaPath)
{
    /// <summary>The CA file for this process, over mapreduce.tls.ca (the CLI's --ca sets it).</summary>
    public const string CaEnvironmentVariable = "MAPREDUCE_TLS_CA";

    public static readonly TlsSettings None = new(null, null, null, null);

    /// <summary>Whether nodes speak TLS: a certificate is configured.</summary>
    public bool Enabled => CertificatePath is not null;

    public static TlsSettings From(Config mapreduce, string? caFromEnvironment = null)
    {
        var section = mapreduce.GetConfig("tls");
        if (section is null) return None;
        caFromEnvironment ??= Environment.GetEnvironmentVariable(CaEnvironmentVariable);
        return new TlsSettings(
            NullIfEmpty(section.GetString("certificate", "")),
            NullIfEmpty(section.GetString("key", "")),
            NullIfEmpty(section.GetString("password", "")),
            NullIfEmpty(caFromEnvironment) ?? NullIfEmpty(section.GetString("ca", "")));
    }

    /// <summary>
    /// A node's certificate and the CA its peers must chain to; null when TLS is off. A problem
    /// (missing file, wrong password, a certificate the CA did not sign) is a
    /// <see cref="ConfigurationException"/> whose message names the key to fix.
    /// </summary>
    public ClusterTls? ForNode()
    {
        if (CertificatePath is null)
        {
            if (KeyPath is not null) throw new ConfigurationException("mapreduce.tls.key is set but mapreduce.tls.certificate is not: give the node's certificate too");
            return null;
        }
        if (CaPath is null)
            throw new ConfigurationException("mapreduce.tls.certificate is set but mapreduce.tls.ca is not: give the PEM file of the CA that signed the cluster's certificates (peers are trusted only when theirs chain to it)");
        var trust = ClusterTrust.Load(CaPath);
        var certificate = NodeCertificate.Load(CertificatePath, KeyPath, Password);
        if (trust.Problem(certificate) is { } problem)
            throw new ConfigurationException($"mapreduce.tls.certificate {Path.GetFullPath(CertificatePath)}: {problem}; the other nodes would refuse it");
        return new ClusterTls(certificate, trust);
    }

    /// <summary>How a client checks the cluster's HTTPS servers: against the CA when one is given, else the system's trusted roots.</summary>
    public ClusterTrust? ForClient() => CaPath is null ? null : ClusterTrust.Load(CaPath);

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
