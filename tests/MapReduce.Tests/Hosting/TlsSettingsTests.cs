using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;
using MapReduce.Actors.Hosting;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Hosting;

/// <summary>mapreduce.tls read into a node's identity and a client's trust, with real certificates made for each test and one-line errors naming the key to fix.</summary>
public sealed class TlsSettingsTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly X509Certificate2 _authority = CertificateMaker.NewAuthority("test cluster CA", TimeSpan.FromDays(1));
    private readonly X509Certificate2 _otherAuthority = CertificateMaker.NewAuthority("someone else's CA", TimeSpan.FromDays(1));

    public TlsSettingsTests() => CertificateMaker.WriteCertificatePem(_authority, _folder.File("ca.crt"));

    public void Dispose()
    {
        _authority.Dispose();
        _otherAuthority.Dispose();
        _folder.Dispose();
    }

    private string Pfx(X509Certificate2 authority, string name, string? password = null)
    {
        using var certificate = CertificateMaker.NewNodeCertificate(authority, name, ["127.0.0.1"], TimeSpan.FromDays(1));
        var path = _folder.File(name + ".pfx");
        CertificateMaker.WritePkcs12(certificate, path, password);
        return path;
    }

    private static TlsSettings Read(string tls) =>
        TlsSettings.From(ConfigurationFactory.ParseString($"mapreduce.tls {{ {tls} }}").GetConfig("mapreduce"), caFromEnvironment: "");

    [Fact]
    public void Without_a_certificate_a_node_speaks_plain_TCP_and_HTTP()
    {
        Assert.Null(Read("").ForNode());
        Assert.False(Read("").Enabled);
        Assert.Null(TlsSettings.From(ConfigurationFactory.ParseString("mapreduce.reducers = 2").GetConfig("mapreduce"), "").ForNode());
    }

    [Fact]
    public void A_node_certificate_signed_by_the_CA_is_the_node_identity_and_the_CA_decides_whom_it_trusts()
    {
        var tls = Read($"certificate = \"{Pfx(_authority, "node-1")}\", ca = \"{_folder.File("ca.crt")}\"").ForNode()!;

        Assert.Equal("CN=node-1", tls.Certificate.Subject);
        Assert.True(tls.Certificate.HasPrivateKey);
        Assert.Null(tls.Trust.Problem(tls.Certificate));
        using var peer = CertificateMaker.NewNodeCertificate(_authority, "node-2", ["10.0.0.9"], TimeSpan.FromDays(1));
        Assert.Null(tls.Trust.Problem(peer));
        using var rogue = CertificateMaker.NewNodeCertificate(_otherAuthority, "rogue", ["127.0.0.1"], TimeSpan.FromDays(1));
        Assert.StartsWith($"the certificate CN=rogue (issued by CN=someone else's CA) does not chain to the cluster's CA in {_folder.File("ca.crt")}: ", tls.Trust.Problem(rogue));
        Assert.Equal("no certificate was presented", tls.Trust.Problem(null));
        // Its own CA's certificate alone (no key) is not a node's.
        Assert.NotNull(tls.Trust.Problem(_otherAuthority));
    }

    [Fact]
    public void A_PEM_certificate_with_its_key_in_another_file_is_read_too()
    {
        using var certificate = CertificateMaker.NewNodeCertificate(_authority, "pem-node", ["127.0.0.1"], TimeSpan.FromDays(1));
        File.WriteAllText(_folder.File("node.crt"), certificate.ExportCertificatePem());
        File.WriteAllText(_folder.File("node.key"), certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        var tls = Read($"certificate = \"{_folder.File("node.crt")}\", key = \"{_folder.File("node.key")}\", ca = \"{_folder.File("ca.crt")}\"").ForNode()!;

        Assert.Equal("CN=pem-node", tls.Certificate.Subject);
        Assert.True(tls.Certificate.HasPrivateKey);
    }

    [Fact]
    public void Each_mistake_is_one_line_naming_the_key_to_fix()
    {
        var missing = _folder.File("missing.pfx");
        Assert.Equal($"mapreduce.tls.certificate: file {missing} does not exist",
            Assert.Throws<ConfigurationException>(() => Read($"certificate = \"{missing}\", ca = \"{_folder.File("ca.crt")}\"").ForNode()).Message);
        Assert.Equal("mapreduce.tls.certificate is set but mapreduce.tls.ca is not: give the PEM file of the CA that signed the cluster's certificates (peers are trusted only when theirs chain to it)",
            Assert.Throws<ConfigurationException>(() => Read($"certificate = \"{Pfx(_authority, "a")}\"").ForNode()).Message);
        Assert.Equal($"mapreduce.tls.ca: file {_folder.File("nope.crt")} does not exist",
            Assert.Throws<ConfigurationException>(() => Read($"certificate = \"{Pfx(_authority, "b")}\", ca = \"{_folder.File("nope.crt")}\"").ForNode()).Message);
        Assert.StartsWith($"mapreduce.tls.certificate: cannot read {_folder.File("c.pfx")} as PKCS#12 (",
            Assert.Throws<ConfigurationException>(() => Read($"certificate = \"{Pfx(_authority, "c", "right")}\", password = wrong, ca = \"{_folder.File("ca.crt")}\"").ForNode()).Message);
        var rogue = Pfx(_otherAuthority, "rogue");
        var notOurs = Assert.Throws<ConfigurationException>(() => Read($"certificate = \"{rogue}\", ca = \"{_folder.File("ca.crt")}\"").ForNode()).Message;
        Assert.StartsWith($"mapreduce.tls.certificate {rogue}: the certificate CN=rogue (issued by CN=someone else's CA) does not chain to the cluster's CA in {_folder.File("ca.crt")}: ", notOurs);
        Assert.EndsWith("; the other nodes would refuse it", notOurs);
        File.WriteAllText(_folder.File("only.crt"), _authority.ExportCertificatePem());
        Assert.Equal($"mapreduce.tls.certificate: {_folder.File("only.pfx")} holds no private key; a node needs its certificate's key to prove who it is",
            Assert.Throws<ConfigurationException>(() =>
            {
                File.WriteAllBytes(_folder.File("only.pfx"), X509CertificateLoader.LoadCertificate(_authority.RawData).Export(X509ContentType.Pkcs12));
                return Read($"certificate = \"{_folder.File("only.pfx")}\", ca = \"{_folder.File("ca.crt")}\"").ForNode();
            }).Message);
    }

    [Fact]
    public void The_CA_for_clients_comes_from_the_environment_first()
    {
        var config = ConfigurationFactory.ParseString("mapreduce.tls.ca = /from/config.crt").GetConfig("mapreduce");
        Assert.Equal("/from/config.crt", TlsSettings.From(config, caFromEnvironment: "").CaPath);
        Assert.Equal("/from/env.crt", TlsSettings.From(config, caFromEnvironment: "/from/env.crt").CaPath);
        Assert.Null(TlsSettings.From(ConfigurationFactory.ParseString("mapreduce.tls.ca = \"\"").GetConfig("mapreduce"), "").ForClient());
    }

    [Theory]
    [InlineData("akka.tcp://mapreduce@10.0.0.2:4053", true, "akka.ssl.tcp://mapreduce@10.0.0.2:4053")]
    [InlineData("akka.ssl.tcp://mapreduce@10.0.0.2:4053", true, "akka.ssl.tcp://mapreduce@10.0.0.2:4053")]
    [InlineData("akka.ssl.tcp://mapreduce@10.0.0.2:4053", false, "akka.tcp://mapreduce@10.0.0.2:4053")]
    [InlineData("akka.tcp://mapreduce@10.0.0.2:4053", false, "akka.tcp://mapreduce@10.0.0.2:4053")]
    public void Seeds_are_written_in_the_transport_the_node_speaks(string seed, bool tls, string expected) =>
        Assert.Equal(expected, SeedAddress.For(seed, tls));
}
