using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// How a process's HTTP client judges the cluster's HTTPS servers (control API, data channel):
/// their certificate must chain to the cluster's CA when one is configured, else to the machine's
/// trusted roots (a cluster behind a publicly certified proxy). It keeps the last refusal, so an
/// error can say why instead of "the SSL connection could not be established".
/// </summary>
public sealed class ServerCertificateCheck(ClusterTrust? trust)
{
    public static readonly ServerCertificateCheck SystemRoots = new(null);

    private string? _lastRefusal;

    public bool Accepts(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var problem = trust is not null
            ? trust.Problem(certificate as X509Certificate2 ?? (certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData())), chain)
            : errors == SslPolicyErrors.None ? null : $"the certificate {certificate?.Subject ?? "(none)"} is not trusted by this machine ({errors})";
        if (problem is null) return true;
        _lastRefusal = problem;
        return false;
    }

    /// <summary>A handler for one of the process's pooled clients; <paramref name="tune"/> sets its limits.</summary>
    public SocketsHttpHandler Handler(Action<SocketsHttpHandler>? tune = null)
    {
        var handler = new SocketsHttpHandler { UseProxy = false, UseCookies = false };
        handler.SslOptions.RemoteCertificateValidationCallback = Accepts;
        tune?.Invoke(handler);
        return handler;
    }

    /// <summary>Why a request to <paramref name="url"/> failed, in one line: an untrusted certificate says what to configure.</summary>
    public string Describe(HttpRequestException e, string url)
    {
        var innermost = (Exception)e;
        while (innermost.InnerException is not null) innermost = innermost.InnerException;
        if (e.InnerException is not AuthenticationException && innermost is not AuthenticationException) return $"cannot reach {url}: {innermost.Message}";
        var why = _lastRefusal ?? innermost.Message.TrimEnd('.');
        return trust is null
            ? $"the HTTPS certificate of {url} is not trusted: {why}; give the CA that signed the cluster's certificates with --ca FILE (or mapreduce.tls.ca)"
            : $"the HTTPS certificate of {url} is not trusted: {why}";
    }
}
