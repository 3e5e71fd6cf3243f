using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// Makes a cluster CA and certificates it signs (ECDSA P-256), for trying TLS and for tests
/// (<c>MapReduce.Node certs</c>). A production cluster usually takes its certificates from the
/// organisation's CA instead (docs/deploy.md).
/// </summary>
public static class CertificateMaker
{
    public static X509Certificate2 NewAuthority(string name, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now + validity);
    }

    /// <summary>A certificate for server and client authentication (TLS remoting is both), naming <paramref name="hosts"/> (DNS names or IP addresses).</summary>
    public static X509Certificate2 NewNodeCertificate(X509Certificate2 authority, string name, IEnumerable<string> hosts, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts)
        {
            if (IPAddress.TryParse(host, out var ip)) names.AddIpAddress(ip);
            else names.AddDnsName(host);
        }
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        var notAfter = now + validity < authority.NotAfter ? now + validity : authority.NotAfter.ToUniversalTime();
        using var signed = request.Create(authority, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        return signed.CopyWithPrivateKey(key);
    }

    /// <summary>The certificate alone, as PEM: what clients and peers are given (mapreduce.tls.ca).</summary>
    public static void WriteCertificatePem(X509Certificate2 certificate, string path) =>
        File.WriteAllText(path, certificate.ExportCertificatePem() + "\n");

    /// <summary>Certificate and private key as PKCS#12 (mapreduce.tls.certificate), readable only by the owner.</summary>
    public static void WritePkcs12(X509Certificate2 certificate, string path, string? password)
    {
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, password));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
