using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using MapReduce.Actors.Hosting;
using MapReduce.Node;

namespace MapReduce.IntegrationTests;

/// <summary>
/// A cluster laid out as on separate machines (<see cref="NetworkHosts"/>): the kvstore, two masters
/// and three workers each on a host of its own with its own data folder, default ports
/// (seed 4053, control API 4080), seed nodes and the masters' URLs from a config file, catalog and
/// journal in a PostgreSQL server on the test's own address; the CLI runs on a host of its own.
/// </summary>
public sealed class HostedCluster : IAsyncDisposable
{
    public const string Client = "client";
    public static readonly string[] Workers = ["worker-1", "worker-2", "worker-3"];
    private static readonly string[] Masters = ["master-1", "master-2"];
    private const int SeedPort = 4053;
    private const int ApiPort = 4080;

    private readonly NetworkHosts _hosts;
    private readonly PostgresServer _postgres;
    private readonly Dictionary<string, HostedNode> _nodes = new(StringComparer.Ordinal);
    private readonly List<HostedNode> _gone = [];

    private HostedCluster(NetworkHosts hosts, PostgresServer postgres, string work, string catalog, string journal)
    {
        _hosts = hosts;
        _postgres = postgres;
        Work = work;
        Catalog = catalog;
        Journal = journal;
    }

    /// <summary>The test's folder: one folder per host under hosts/, logs/, the config file, gates.</summary>
    public string Work { get; }
    public string Catalog { get; }
    public string Journal { get; }
    public string ConfigFile => Path.Combine(Work, "cluster.hocon");
    public NetworkHosts Hosts => _hosts;

    public HostedNode Node(string name) => _nodes[name];

    public string ApiUrl(string master) => $"https://{_hosts[master].Address}:{ApiPort}/";

    /// <summary>The CA that signed the nodes' certificate, which the test's own client trusts.</summary>
    public string CaFile => Path.Combine(Work, "tls", "ca.crt");

    /// <summary>Why such a cluster cannot run here (one line), or null.</summary>
    public static string? Unavailable => NetworkHosts.Unavailable ?? PostgresServer.OwnServerUnavailable;

    public static async Task<HostedCluster> StartAsync()
    {
        var hosts = await NetworkHosts.CreateAsync(["kvstore", .. Masters, .. Workers, Client]);
        PostgresServer? postgres = null;
        HostedCluster? cluster = null;
        try
        {
            postgres = await PostgresServer.StartOwnAsync(hosts.Gateway, hosts.Subnet);
            var work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", "hosts-" + Guid.NewGuid().ToString("N"))).FullName;
            Directory.CreateDirectory(Path.Combine(work, "logs"));
            cluster = new HostedCluster(hosts, postgres, work,
                await postgres.CreateDatabaseAsync("mapreduce_catalog"), await postgres.CreateDatabaseAsync("mapreduce_journal"));
            await File.WriteAllTextAsync(cluster.ConfigFile, ClusterConfig(hosts, MakeCertificates(Path.Combine(work, "tls"))));
            await cluster.StartNodeAsync("kvstore");
            await cluster.StartNodeAsync("master-1"); // first, so it holds the master singleton
            await Task.WhenAll(new[] { "master-2" }.Concat(Workers).Select(cluster.StartNodeAsync));
            return cluster;
        }
        catch
        {
            if (cluster is not null) await cluster.DisposeAsync();
            else
            {
                if (postgres is not null) await postgres.DisposeAsync();
                await hosts.DisposeAsync();
            }
            throw;
        }
    }

    /// <summary>
    /// The cluster's config file: the sample an operator starts from (hocon/cluster.hocon, which
    /// docs/deploy.md and the Kubernetes ConfigMap use too, so they cannot drift from what runs
    /// here), then this run's addresses: where the seed is, where the masters' control APIs are (the
    /// CLI reads it too), and no short circuit. The hosts share this machine's file system, where a
    /// node would otherwise find the kvstore's folder and write into it directly; on separate
    /// machines it cannot. Later keys in a HOCON file win over earlier ones.
    /// </summary>
    private static string ClusterConfig(NetworkHosts hosts, string tlsFolder) => File.ReadAllText(Path.Combine(Cli.RepoRoot, "hocon", "cluster.hocon")) + $$"""

        # This test run's hosts and certificates, over the sample above.
        mapreduce {
          seed-nodes = ["akka.tcp://mapreduce@{{hosts["kvstore"].Address}}:{{SeedPort}}"]
          cluster = [{{string.Join(", ", Masters.Select(m => $"\"https://{hosts[m].Address}:{ApiPort}\""))}}]
          http.port = {{ApiPort}}
          kvstore.short-circuit = off
          tls {
            certificate = "{{Path.Combine(tlsFolder, "node.pfx")}}"
            ca = "{{Path.Combine(tlsFolder, "ca.crt")}}"
          }
        }
        """;

    /// <summary>The files `MapReduce.Node certs` makes: a CA, and one certificate (with key) that every node uses.</summary>
    private static string MakeCertificates(string folder)
    {
        Directory.CreateDirectory(folder);
        using var authority = CertificateMaker.NewAuthority("netns test CA", TimeSpan.FromDays(1));
        using var node = CertificateMaker.NewNodeCertificate(authority, "mapreduce node", ["10.0.0.0"], TimeSpan.FromDays(1));
        CertificateMaker.WriteCertificatePem(authority, Path.Combine(folder, "ca.crt"));
        CertificateMaker.WritePkcs12(node, Path.Combine(folder, "node.pfx"), null);
        return folder;
    }

    private static string Role(string name) => name == "kvstore" ? NodeRoles.KvStore : name.StartsWith("master", StringComparison.Ordinal) ? NodeRoles.Master : NodeRoles.Worker;

    /// <summary>Starts the node of host <paramref name="name"/> (again, after it died: same folder, same address and port) and waits until it is Up.</summary>
    public async Task StartNodeAsync(string name)
    {
        var host = _hosts[name];
        var role = Role(name);
        List<string> args =
        [
            "--role", role, "--host", host.Address, "--port", SeedPort.ToString(),
            "--data-dir", Path.Combine(Work, "hosts", name), "--config", ConfigFile,
            "--parent-pid", Environment.ProcessId.ToString(),
        ];
        if (role != NodeRoles.Worker) args.AddRange(["--catalog", Catalog, "--journal", Journal]);
        if (_nodes.Remove(name, out var earlier)) _gone.Add(earlier);
        var node = HostedNode.Start(name, NetworkHosts.StartInfo(host, "MapReduce.Node", args), Path.Combine(Work, "logs", name + ".log"));
        _nodes[name] = node;
        await node.WaitReadyAsync(TimeSpan.FromSeconds(120));
    }

    /// <summary>Runs the CLI on the client host with the cluster's config file (the masters' URLs come from it).</summary>
    public Task<CliResult> CliAsync(params string[] args) =>
        Cli.RunAsync(NetworkHosts.StartInfo(_hosts[Client], "MapReduce.Submit", [.. args, "--config", ConfigFile]), TimeSpan.FromMinutes(5));

    /// <summary>The cluster as a master sees it (GET /api/cluster), asked from the test's own address.</summary>
    public async Task<ClusterView> ViewAsync(string master)
    {
        using var http = new HttpClient(new ServerCertificateCheck(ClusterTrust.Load(CaFile)).Handler()) { Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", TestToken.Value);
        var view = await http.GetFromJsonAsync<ClusterView>(ApiUrl(master) + "api/cluster", new JsonSerializerOptions(JsonSerializerDefaults.Web));
        return view ?? throw new InvalidOperationException($"{master} answered /api/cluster with nothing");
    }

    /// <summary>The host name whose address is in an Akka address such as akka.tcp://mapreduce@10.213.7.3:4053.</summary>
    public string HostOf(string akkaAddress) => _hosts.Hosts.Single(h => akkaAddress.Contains($"@{h.Address}:", StringComparison.Ordinal)).Name;

    public async ValueTask DisposeAsync()
    {
        try
        {
            // The whole cluster at once, as local mode stops it: nobody stays to see a graceful leave.
            var all = _nodes.Values.Concat(_gone).ToList();
            await Task.WhenAll(all.Select(n => ProcessSignals.StopAsync(n.Process, MapReduceSettings.Defaults.LocalWaits.StopGrace, wholeCluster: MapReduceSettings.Defaults.LocalWaits.ClusterStopGrace)));
            foreach (var node in all) node.Dispose();
        }
        finally
        {
            try { await _hosts.DisposeAsync(); } // kills whatever still runs on a host
            finally
            {
                try { await _postgres.DisposeAsync(); }
                finally
                {
                    try { Directory.Delete(Work, recursive: true); } catch (IOException) { }
                }
            }
        }
    }
}

public sealed record ClusterMember(string Address, string[] Roles, string Status, bool Reachable);

public sealed record ClusterView(ClusterMember[] Members, string? Master);

/// <summary>A node process on a host: its output goes to a log file; it is ready once it prints the ready line (<see cref="NodeLauncher"/>).</summary>
public sealed class HostedNode : IDisposable
{
    private readonly StreamWriter _log;
    private Task _ready = Task.CompletedTask;

    private HostedNode(string name, Process process, string logFile, StreamWriter log)
    {
        Name = name;
        Process = process;
        LogFile = logFile;
        _log = log;
    }

    public string Name { get; }
    public Process Process { get; }
    public string LogFile { get; }

    public static HostedNode Start(string name, ProcessStartInfo start, string logFile)
    {
        var log = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var node = new HostedNode(name, new Process { StartInfo = start }, logFile, log);
        node._ready = NodeLauncher.Start(name, node.Process, logFile, node.Write);
        return node;
    }

    private void Write(string line)
    {
        lock (_log)
        {
            try { _log.WriteLine(line); } catch (ObjectDisposedException) { }
        }
    }

    public Task WaitReadyAsync(TimeSpan timeout) => NodeLauncher.WaitReadyAsync([(Name, _ready)], timeout, LogFile);

    /// <summary>The node's log so far.</summary>
    public string Log()
    {
        using var reader = new StreamReader(new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd();
    }

    public void Dispose()
    {
        Process.Dispose();
        lock (_log) _log.Dispose();
    }
}
