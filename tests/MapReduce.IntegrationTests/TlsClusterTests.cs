using System.Net;
using System.Net.Http.Json;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Node;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// A cluster on mapreduce.tls, as real node processes with certificates made for the test: remoting
/// with mutual TLS, HTTPS on the control API and the data channel (the short circuit off, so blob
/// bytes cross it). A job runs exactly; a node with no certificate, and one whose certificate
/// another CA signed, never become members; a client without the CA, or without the token, is refused.
/// </summary>
[RunsAbout(31)]
public sealed class TlsClusterTests(ITestOutputHelper log)
{
    [Fact]
    public async Task A_TLS_cluster_runs_a_job_exactly_and_refuses_nodes_and_clients_without_its_certificate_or_token()
    {
        string certs = "", config = "";
        await using var cluster = await FailureCluster.StartAsync(workers: 1, config: work =>
        {
            certs = Directory.CreateDirectory(Path.Combine(work, "certs")).FullName;
            using var authority = CertificateMaker.NewAuthority("cluster CA", TimeSpan.FromDays(1));
            using var node = CertificateMaker.NewNodeCertificate(authority, "node", ["127.0.0.1"], TimeSpan.FromDays(1));
            using var otherAuthority = CertificateMaker.NewAuthority("another CA", TimeSpan.FromDays(1));
            using var rogue = CertificateMaker.NewNodeCertificate(otherAuthority, "rogue", ["127.0.0.1"], TimeSpan.FromDays(1));
            CertificateMaker.WriteCertificatePem(authority, Path.Combine(certs, "ca.crt"));
            CertificateMaker.WritePkcs12(node, Path.Combine(certs, "node.pfx"), "secret");
            CertificateMaker.WritePkcs12(rogue, Path.Combine(certs, "rogue.pfx"), null);
            // The rogue trusts both CAs: its own (so it starts) and the cluster's (so it accepts the cluster's servers); only the cluster's check can stop it.
            File.WriteAllText(Path.Combine(certs, "rogue-trusts.crt"), authority.ExportCertificatePem() + "\n" + otherAuthority.ExportCertificatePem() + "\n");
            config = Path.Combine(work, "tls.hocon");
            File.WriteAllText(config, $$"""
                mapreduce.tls { certificate = "{{Path.Combine(certs, "node.pfx")}}", password = secret, ca = "{{Path.Combine(certs, "ca.crt")}}" }
                mapreduce.kvstore.short-circuit = off
                """);
            return config;
        });
        Assert.All(cluster.Api.Split(','), url => Assert.StartsWith("https://127.0.0.1:", url));

        // A job, its bytes over HTTPS and its messages over TLS remoting.
        var output = Path.Combine(cluster.Work, "out");
        var result = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--cluster", cluster.Api, "--config", config, "--reducers", "3");
        log.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 3));
        Assert.Contains("blob bytes go over the kvstore's data channel", ReadShared(cluster.Node("worker-1").LogFile));

        // A client without the CA: one line saying what to give, at once (a certificate does not change by waiting).
        var untrusted = await Cli.RunAsync("MapReduce.Submit", ["jobs", "--cluster", cluster.Api], TimeSpan.FromSeconds(30));
        Assert.Equal(3, untrusted.ExitCode);
        var firstApi = cluster.Api.Split(',')[0];
        Assert.Matches($"^error: the HTTPS certificate of {System.Text.RegularExpressions.Regex.Escape(firstApi)} is not trusted: the certificate CN=node is not trusted by this machine \\(.+\\); " +
            "give the CA that signed the cluster's certificates with --ca FILE \\(or mapreduce.tls.ca\\)\n$", untrusted.Error);
        var trusted = await Cli.RunAsync("MapReduce.Submit", ["jobs", "--cluster", cluster.Api, "--ca", Path.Combine(certs, "ca.crt")], TimeSpan.FromSeconds(30));
        Assert.True(trusted.ExitCode == 0, trusted.ToString());

        // With the CA but without the token: 401, over HTTPS.
        using var http = new HttpClient(new ServerCertificateCheck(ClusterTrust.Load(Path.Combine(certs, "ca.crt"))).Handler());
        using (var anonymous = await http.GetAsync(new Uri(new Uri(firstApi), "api/jobs")))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestToken.Value);
        var store = (await http.GetFromJsonAsync<ApiModels.StoreInfo>(new Uri(new Uri(firstApi), "api/store"), ApiModels.Json))!;
        Assert.StartsWith("https://127.0.0.1:", store.DataUrl);
        using (var anonymous = await new HttpClient(new ServerCertificateCheck(ClusterTrust.Load(Path.Combine(certs, "ca.crt"))).Handler()).GetAsync(new Uri(new Uri(store.DataUrl), "blobs/code%2Fx")))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        // Two nodes that try to join: one speaking plain TCP, one whose certificate another CA signed.
        File.WriteAllText(Path.Combine(cluster.Work, "rogue.hocon"),
            $"mapreduce.tls {{ certificate = \"{Path.Combine(certs, "rogue.pfx")}\", ca = \"{Path.Combine(certs, "rogue-trusts.crt")}\" }}");
        await using var plain = NodeProcessRun.Start("--role", NodeRoles.Worker, "--seed", cluster.Seed, "--data-dir", Path.Combine(cluster.Work, "plain"));
        await using var rogue = NodeProcessRun.Start("--role", NodeRoles.Worker, "--seed", cluster.Seed, "--data-dir", Path.Combine(cluster.Work, "rogue"),
            "--config", Path.Combine(cluster.Work, "rogue.hocon"));
        var kvstoreLog = cluster.Node("kvstore").LogFile;
        using var dump = new OnFailure(() => log.WriteLine($"--- rogue\n{rogue}\n--- plain\n{plain}\n--- kvstore log\n{ReadShared(kvstoreLog)}"));
        await Cli.EventuallyAsync(() => ReadShared(kvstoreLog).Contains("refused a TLS connection with") && ReadShared(kvstoreLog).Contains("the certificate CN=rogue (issued by CN=another CA) does not chain to the cluster's CA"),
            TimeSpan.FromSeconds(60), "the kvstore never logged refusing the rogue certificate");
        // Both keep trying (seed-node-timeout 5 s); give them two rounds more.
        await Task.Delay(TimeSpan.FromSeconds(12));
        var members = (await http.GetFromJsonAsync<ApiModels.ClusterInfo>(new Uri(new Uri(firstApi), "api/cluster"), ApiModels.Json))!.Members;
        log.WriteLine(string.Join("\n", members.Select(m => $"{m.Address} {string.Join(',', m.Roles)} {m.Status}")));
        Assert.Equal(4, members.Length);
        Assert.All(members, m => Assert.StartsWith("akka.ssl.tcp://mapreduce@127.0.0.1:", m.Address));
        Assert.Equal(["kvstore", "master", "master", "worker"], members.SelectMany(m => m.Roles).Order().ToArray());
        Assert.DoesNotContain(NodeHost.ReadyLine, plain.Output + rogue.Output);
        dump.Passed = true;
    }

    /// <summary>Writes what the nodes said when the test fails after this point.</summary>
    private sealed class OnFailure(Action write) : IDisposable
    {
        public bool Passed { get; set; }

        public void Dispose()
        {
            if (!Passed) write();
        }
    }

    private static string ReadShared(string path)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd();
    }
}
