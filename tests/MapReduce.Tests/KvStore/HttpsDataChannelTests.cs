using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.KvStore;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Blobs;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.KvStore;

/// <summary>The data channel over HTTPS with the node's certificate: a client that trusts the cluster's CA moves bytes; one that does not is told why and what to give.</summary>
public sealed class HttpsDataChannelTests : IAsyncLifetime
{
    private const string Token = "data-channel-token";
    private readonly TempFolder _folder = new();
    private readonly X509Certificate2 _authority = CertificateMaker.NewAuthority("data channel test CA", TimeSpan.FromDays(1));
    private LocalBlobStore? _blobs;
    private BlobHttpServer? _server;
    private ClusterTrust? _trust;

    public async Task InitializeAsync()
    {
        _blobs = new LocalBlobStore(_folder.File("kvstore"));
        using var node = CertificateMaker.NewNodeCertificate(_authority, "kvstore", ["127.0.0.1"], TimeSpan.FromDays(1));
        CertificateMaker.WriteCertificatePem(_authority, _folder.File("ca.crt"));
        _trust = ClusterTrust.Load(_folder.File("ca.crt"));
        _server = await BlobHttpServer.StartAsync(_blobs, "127.0.0.1", 0, Token, X509CertificateLoader.LoadPkcs12(node.Export(X509ContentType.Pkcs12), null));
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        _blobs?.Dispose();
        _authority.Dispose();
        _folder.Dispose();
    }

    private BlobClient Client(ServerCertificateCheck check) =>
        new(new FixedDataChannel(new KvStoreProtocol.DataEndpoint(_server!.BaseUrl.ToString(), "", "")), _ => { }, shortCircuit: false, Token, check);

    [Fact]
    public async Task A_client_trusting_the_cluster_CA_puts_and_gets_over_HTTPS()
    {
        Assert.Equal("https", _server!.BaseUrl.Scheme);
        var client = Client(new ServerCertificateCheck(_trust));
        var bytes = Encoding.UTF8.GetBytes("over TLS\n");

        await client.PutAsync("test/tls.txt", bytes);

        Assert.Equal(bytes, await client.GetBytesAsync("test/tls.txt"));
    }

    [Fact]
    public async Task A_client_without_the_CA_is_refused_with_what_to_give()
    {
        var e = await Assert.ThrowsAsync<KvStoreException>(() => Client(ServerCertificateCheck.SystemRoots).PutAsync("test/x.txt", "x"u8.ToArray()));

        Assert.StartsWith($"the HTTPS certificate of {_server!.BaseUrl} is not trusted: the certificate CN=kvstore is not trusted by this machine (", e.Message);
        Assert.EndsWith("); give the CA that signed the cluster's certificates with --ca FILE (or mapreduce.tls.ca)", e.Message);
    }

    [Fact]
    public async Task Plain_HTTP_to_the_HTTPS_port_gets_no_blob()
    {
        using var http = new HttpClient();
        var plain = new UriBuilder(_server!.BaseUrl) { Scheme = "http" }.Uri;
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync(new Uri(plain, "blobs/test%2Fx.txt")));
    }

    [Fact]
    public async Task A_request_without_the_token_gets_401_over_HTTPS()
    {
        using var http = new HttpClient(new ServerCertificateCheck(_trust).Handler());
        using var response = await http.GetAsync(new Uri(_server!.BaseUrl, "blobs/test%2Fx.txt"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
