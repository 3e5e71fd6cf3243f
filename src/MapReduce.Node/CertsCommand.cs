using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using MapReduce.Actors.Hosting;

namespace MapReduce.Node;

/// <summary>
/// <c>MapReduce.Node certs</c>: a cluster CA (made once per folder, then reused) and a node
/// certificate it signs, with the config lines that turn TLS on. For trying TLS and for small
/// clusters; docs/deploy.md shows the same with openssl and an organisation's CA.
/// </summary>
public static class CertsCommand
{
    public static Command Build()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for ca.crt, ca.pfx (the CA's key: keep it off the nodes) and NAME.pfx", Required = true };
        var name = new Option<string>("--name") { Description = "The node certificate's name (its file is NAME.pfx)", DefaultValueFactory = _ => "node" };
        var hosts = new Option<string[]>("--host") { Description = "Host names or addresses the certificate names (repeatable)", DefaultValueFactory = _ => ["127.0.0.1", "localhost"] };
        var days = new Option<int>("--days") { Description = "Days the certificates are valid", DefaultValueFactory = _ => 365 };
        var command = new Command("certs", "Make a cluster CA (once per folder) and a node certificate it signs, for mapreduce.tls") { output, name, hosts, days };
        command.SetAction(parse =>
        {
            var folder = Directory.CreateDirectory(parse.GetValue(output)!.FullName).FullName;
            var validity = TimeSpan.FromDays(parse.GetValue(days)); // --days, the certificates' validity: a flag, not a wait
            var caPfx = Path.Combine(folder, "ca.pfx");
            X509Certificate2 authority;
            if (File.Exists(caPfx))
            {
                authority = X509CertificateLoader.LoadPkcs12FromFile(caPfx, null);
                Console.WriteLine($"signing with the CA in {caPfx}");
            }
            else
            {
                authority = CertificateMaker.NewAuthority($"MapReduce.NET cluster CA {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}", validity);
                CertificateMaker.WritePkcs12(authority, caPfx, null);
                CertificateMaker.WriteCertificatePem(authority, Path.Combine(folder, "ca.crt"));
                Console.WriteLine($"made a CA: {Path.Combine(folder, "ca.crt")} (give it to every node and client), {caPfx} (its key: keep it safe)");
            }
            var nodeName = parse.GetValue(name)!;
            var nodeFile = Path.Combine(folder, nodeName + ".pfx");
            using (authority)
            using (var certificate = CertificateMaker.NewNodeCertificate(authority, nodeName, parse.GetValue(hosts)!, validity))
                CertificateMaker.WritePkcs12(certificate, nodeFile, null);
            Console.WriteLine($"made {nodeFile} for {string.Join(", ", parse.GetValue(hosts)!)}; in the node's config:");
            Console.WriteLine($"mapreduce.tls {{ certificate = \"{nodeFile}\", ca = \"{Path.Combine(folder, "ca.crt")}\" }}");
            return 0;
        });
        return command;
    }
}
