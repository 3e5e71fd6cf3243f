using MapReduce.Actors.Hosting;
using YamlDotNet.RepresentationModel;
using static MapReduce.Tests.Deploy.Manifests;

namespace MapReduce.Tests.Deploy;

/// <summary>
/// hocon/cluster.hocon and the Kubernetes manifests under deploy/k8s (docs/deploy.md), checked
/// structurally (kubectl is not at hand): the ConfigMap is the sample file word for word, every
/// pod's addresses and ports are the ones the file and the Services name, and what the pods pass
/// as flags agrees with it.
/// </summary>
public sealed class DeploymentConfigTests
{
    private static readonly string ClusterHocon = RepoFiles.Path("hocon", "cluster.hocon");
    private readonly Manifests _k8s = new(RepoFiles.Path("deploy", "k8s"));

    private static MapReduceSettings Sample() => MapReduceSettings.From(MapReduceSettings.LoadConfig(ClusterHocon));

    [Fact]
    public void The_sample_describes_three_machines_over_the_defaults()
    {
        var settings = Sample();

        Assert.Equal(["akka.tcp://mapreduce@10.0.0.1:4053", "akka.tcp://mapreduce@10.0.0.2:4053"], settings.SeedNodes);
        Assert.Equal("postgres:Host=10.0.0.1;Port=5432;Database=mapreduce_catalog;Username=mapreduce", settings.Catalog);
        Assert.Equal("postgres:Host=10.0.0.1;Port=5432;Database=mapreduce_journal;Username=mapreduce", settings.Journal);
        Assert.Equal(["https://10.0.0.2:4080", "https://10.0.0.3:4080"], settings.ClusterUrls);
        Assert.Equal(new TlsSettings("/etc/mapreduce-tls/node.pfx", null, null, "/etc/mapreduce-tls/ca.crt"), TlsSettings.From(MapReduceSettings.LoadConfig(ClusterHocon).GetConfig("mapreduce"), caFromEnvironment: ""));
        Assert.Equal((4080, 4090, (int?)4070), (settings.HttpPort, settings.KvStoreDataPort, settings.HealthPort));
        // Everything else as in mapreduce.hocon.
        Assert.Equal(MapReduceSettings.From(MapReduceSettings.LoadConfig()).Master, settings.Master);
    }

    [Fact]
    public void Local_mode_defaults_serve_no_health_port_and_leave_the_databases_to_the_data_folder()
    {
        var settings = MapReduceSettings.From(MapReduceSettings.LoadConfig());
        Assert.Equal((null, null, (int?)null), (settings.Catalog, settings.Journal, settings.HealthPort));
    }

    [Fact]
    public void The_config_map_holds_cluster_hocon_word_for_word()
    {
        var map = _k8s.Single("ConfigMap", "mapreduce-config");
        Assert.Equal(File.ReadAllText(ClusterHocon), Text(map, "data", "cluster.hocon"));
    }

    [Fact]
    public void Kustomize_lists_every_manifest_and_each_names_its_kind()
    {
        var kustomization = _k8s.OfKind("Kustomization").Single();
        Assert.Equal(
            Directory.EnumerateFiles(RepoFiles.Path("deploy", "k8s"), "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml").Order(StringComparer.Ordinal),
            Strings(kustomization, "resources").Order(StringComparer.Ordinal));
        foreach (var (file, doc) in _k8s.Documents.Where(d => Text(d.Root, "kind") != "Kustomization"))
        {
            Assert.False(string.IsNullOrEmpty(Text(doc, "apiVersion")), file);
            Assert.False(string.IsNullOrEmpty(Text(doc, "metadata", "name")), file);
        }
    }

    [Theory]
    [InlineData("StatefulSet", "kvstore", NodeRoles.KvStore, 1)]
    [InlineData("StatefulSet", "master", NodeRoles.Master, 2)]
    [InlineData("Deployment", "worker", NodeRoles.Worker, 3)]
    public void Each_role_runs_the_sample_config_with_its_role_probes_on_the_health_port_and_the_clusters_addresses(string kind, string name, string role, int replicas)
    {
        var workload = _k8s.Single(kind, name);
        Assert.Equal(replicas.ToString(), Text(workload, "spec", "replicas"));
        var labels = (YamlMappingNode)At(workload, "spec", "template", "metadata", "labels");
        Assert.Equal(Text(workload, "spec", "selector", "matchLabels", "app"), Text(labels, "app"));
        var container = Items(workload, "spec", "template", "spec", "containers").Single();
        var args = Strings(container, "args");
        Assert.Equal("/etc/mapreduce/cluster.hocon", args[args.ToList().IndexOf("--config") + 1]);
        Assert.Equal(role, args[args.ToList().IndexOf("--role") + 1]);
        var mounts = Items(container, "volumeMounts").ToDictionary(m => Text(m, "name"), m => Text(m, "mountPath"));
        Assert.Equal("/etc/mapreduce", mounts["config"]);
        Assert.Equal("mapreduce-config", Text(Items(workload, "spec", "template", "spec", "volumes").Single(v => Text(v, "name") == "config"), "configMap", "name"));
        // The certificate and CA that cluster.hocon names, from the Secret the operator makes.
        Assert.Equal("/etc/mapreduce-tls", mounts["tls"]);
        Assert.Equal("mapreduce-tls", Text(Items(workload, "spec", "template", "spec", "volumes").Single(v => Text(v, "name") == "tls"), "secret", "secretName"));
        var tls = TlsSettings.From(MapReduceSettings.LoadConfig(ClusterHocon).GetConfig("mapreduce"), caFromEnvironment: "");
        Assert.Equal("/etc/mapreduce-tls", Path.GetDirectoryName(tls.CertificatePath));
        Assert.Equal("/etc/mapreduce-tls", Path.GetDirectoryName(tls.CaPath));
        Assert.Equal("/var/lib/mapreduce", args[args.ToList().IndexOf("--data-dir") + 1]);

        var settings = Sample();
        var ports = Items(container, "ports").ToDictionary(p => Text(p, "name"), p => int.Parse(Text(p, "containerPort")));
        Assert.Equal(settings.HealthPort, ports["health"]);
        Assert.Equal(args[args.ToList().IndexOf("--port") + 1], ports["akka"].ToString());
        if (role == NodeRoles.Master) Assert.Equal(settings.HttpPort, ports["http"]);
        if (role == NodeRoles.KvStore) Assert.Equal(settings.KvStoreDataPort, ports["data"]);
        Assert.Equal("/healthz", Text(container, "livenessProbe", "httpGet", "path"));
        Assert.Equal("/healthz", Text(container, "startupProbe", "httpGet", "path"));
        Assert.Equal("/readyz", Text(container, "readinessProbe", "httpGet", "path"));
        foreach (var probe in new[] { "livenessProbe", "startupProbe", "readinessProbe" })
            Assert.Equal("health", Text(container, probe, "httpGet", "port"));

        // Every $(VAR) in the arguments is set in the container's environment.
        var env = Items(container, "env").Select(e => Text(e, "name")).ToHashSet();
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(string.Join(' ', args), @"\$\((\w+)\)"))
            Assert.Contains(m.Groups[1].Value, env);
        // A master has the journal, the kvstore and the masters the catalog, from the Secret; a worker neither.
        Assert.Equal(role != NodeRoles.Worker, args.Contains("--catalog") && env.Contains("MAPREDUCE_CATALOG"));
        Assert.Equal(role == NodeRoles.Master, args.Contains("--journal") && env.Contains("MAPREDUCE_JOURNAL"));
        var secret = _k8s.Single("Secret", "mapreduce-db");
        foreach (var variable in Items(container, "env").Where(e => Has(e, "valueFrom", "secretKeyRef")))
        {
            Assert.Equal("mapreduce-db", Text(variable, "valueFrom", "secretKeyRef", "name"));
            Assert.True(Has(secret, "stringData", Text(variable, "valueFrom", "secretKeyRef", "key")), Text(variable, "name"));
        }
    }

    [Fact]
    public void Every_seed_is_a_stateful_pod_whose_headless_service_publishes_it_before_it_is_ready_and_gives_it_the_seeds_address()
    {
        var seedLists = new List<string>();
        foreach (var workload in _k8s.OfKind("StatefulSet").Concat(_k8s.OfKind("Deployment")).Where(w => Text(w, "metadata", "name") != "postgres"))
        {
            var container = Items(workload, "spec", "template", "spec", "containers").Single();
            var args = Strings(container, "args").ToList();
            var seeds = args.Select((arg, i) => (arg, i)).Where(a => a.arg == "--seed").Select(a => args[a.i + 1]).ToList();
            Assert.Equal(2, seeds.Count);
            seedLists.Add(string.Join(' ', seeds));
            foreach (var seed in seeds)
            {
                // akka.tcp://mapreduce@POD-0.SERVICE.mapreduce.svc.cluster.local:4053
                var match = System.Text.RegularExpressions.Regex.Match(seed, @"^akka\.tcp://mapreduce@([a-z-]+)-0\.([a-z-]+)\.mapreduce\.svc\.cluster\.local:(\d+)$");
                Assert.True(match.Success, seed);
                var (set, service, port) = (match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value);
                var seedSet = _k8s.Single("StatefulSet", set);
                Assert.Equal(service, Text(seedSet, "spec", "serviceName"));
                var headless = _k8s.Single("Service", service);
                Assert.Equal("None", Text(headless, "spec", "clusterIP"));
                Assert.Equal("true", Text(headless, "spec", "publishNotReadyAddresses"));
                Assert.Equal(Text(seedSet, "spec", "selector", "matchLabels", "app"), Text(headless, "spec", "selector", "app"));
                // The seed pod advertises exactly the address the others join.
                var seedArgs = Strings(Items(seedSet, "spec", "template", "spec", "containers").Single(), "args").ToList();
                Assert.Equal($"$(POD_NAME).{service}.mapreduce.svc.cluster.local", seedArgs[seedArgs.IndexOf("--host") + 1]);
                Assert.Equal(port, seedArgs[seedArgs.IndexOf("--port") + 1]);
            }
        }
        Assert.Equal(3, seedLists.Count);
        Assert.Single(seedLists.Distinct());
        Assert.Equal("mapreduce", Text(_k8s.OfKind("Kustomization").Single(), "namespace"));
    }

    [Fact]
    public void The_control_api_service_reaches_the_masters_http_port()
    {
        var api = _k8s.Single("Service", "mapreduce-api");
        Assert.Equal("master", Text(api, "spec", "selector", "app"));
        var port = Items(api, "spec", "ports").Single();
        Assert.Equal(("4080", "http"), (Text(port, "port"), Text(port, "targetPort")));
    }
}
