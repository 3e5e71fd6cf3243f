using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;

namespace MapReduce.Actors.Hosting;

/// <summary>Reads a node's certificate and private key from a PKCS#12 file or PEM files, with one-line errors naming the key to fix.</summary>
public static class NodeCertificate
{
    public static X509Certificate2 Load(string path, string? keyPath, string? password)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new ConfigurationException($"mapreduce.tls.certificate: file {full} does not exist");
        if (keyPath is not null && !File.Exists(Path.GetFullPath(keyPath)))
            throw new ConfigurationException($"mapreduce.tls.key: file {Path.GetFullPath(keyPath)} does not exist");
        X509Certificate2 certificate;
        try
        {
            certificate = IsPem(full) ? FromPem(full, keyPath is null ? full : Path.GetFullPath(keyPath), password)
                : X509CertificateLoader.LoadPkcs12FromFile(full, password, X509KeyStorageFlags.DefaultKeySet);
        }
        catch (CryptographicException e)
        {
            throw new ConfigurationException(IsPem(full)
                ? $"mapreduce.tls.certificate: cannot read {full} with its key {(keyPath is null ? "in the same file" : Path.GetFullPath(keyPath))} ({e.Message.TrimEnd('.')}); a PEM certificate needs its private key (mapreduce.tls.key, and mapreduce.tls.password if the key is encrypted)"
                : $"mapreduce.tls.certificate: cannot read {full} as PKCS#12 ({e.Message.TrimEnd('.')}); is mapreduce.tls.password right?");
        }
        if (!certificate.HasPrivateKey)
            throw new ConfigurationException($"mapreduce.tls.certificate: {full} holds no private key; a node needs its certificate's key to prove who it is");
        if (certificate.NotAfter < DateTime.Now)
            throw new ConfigurationException($"mapreduce.tls.certificate: the certificate in {full} ({certificate.Subject}) expired on {certificate.NotAfter:yyyy-MM-dd HH:mm}");
        return certificate;
    }

    private static bool IsPem(string path)
    {
        Span<byte> start = stackalloc byte[64];
        using var file = File.OpenRead(path);
        var read = file.Read(start);
        return System.Text.Encoding.ASCII.GetString(start[..read]).Contains("-----BEGIN", StringComparison.Ordinal);
    }

    /// <summary>
    /// PEM certificate and key, re-imported as PKCS#12: a key read from PEM is ephemeral, which
    /// Windows' TLS stack refuses; the round trip costs a millisecond at start.
    /// </summary>
    private static X509Certificate2 FromPem(string certificatePath, string keyPath, string? password)
    {
        using var pem = password is null
            ? X509Certificate2.CreateFromPemFile(certificatePath, keyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, keyPath);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }
}
