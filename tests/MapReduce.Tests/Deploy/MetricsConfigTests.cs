using System.Text.Json;
using System.Text.RegularExpressions;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Metrics;
using MapReduce.Tests.Metrics;
using YamlDotNet.RepresentationModel;
using static MapReduce.Tests.Deploy.Manifests;

namespace MapReduce.Tests.Deploy;

/// <summary>
/// How Prometheus and Grafana find the metrics (docs/operations.md#metrics): every node's pod says
/// where /metrics is, the scrape job takes those pods of the cluster's namespace with the token,
/// and the dashboard asks only for series the nodes export.
/// </summary>
[Collection(ProcessMetrics.Name)]
public sealed class MetricsConfigTests
{
    private readonly Manifests _k8s = new(RepoFiles.Path("deploy", "k8s"));

    [Theory]
    [InlineData("StatefulSet", "kvstore")]
    [InlineData("StatefulSet", "master")]
    [InlineData("Deployment", "worker")]
    public void Each_nodes_pod_says_where_its_metrics_are_the_health_port(string kind, string name)
    {
        var workload = _k8s.Single(kind, name);
        var annotations = At(workload, "spec", "template", "metadata", "annotations");
        var container = Items(workload, "spec", "template", "spec", "containers").Single();
        var health = Items(container, "ports").Single(p => Text(p, "name") == "health");
        Assert.Equal("true", Text(annotations, "prometheus.io/scrape"));
        Assert.Equal(Text(health, "containerPort"), Text(annotations, "prometheus.io/port"));
        Assert.Equal(MetricsEndpoint.Path, Text(annotations, "prometheus.io/path"));
        var settings = MapReduceSettings.From(MapReduceSettings.LoadConfig(RepoFiles.Path("hocon", "cluster.hocon")));
        Assert.Equal(settings.HealthPort.ToString(), Text(annotations, "prometheus.io/port"));
    }

    [Fact]
    public void The_scrape_job_takes_the_annotated_pods_of_the_clusters_namespace_with_the_token_as_a_bearer()
    {
        var map = _k8s.Single("ConfigMap", "prometheus-scrape-config");
        var config = new YamlStream();
        config.Load(new StringReader(Text(map, "data", "prometheus.yml")));
        var job = (YamlMappingNode)Items(config.Documents.Single().RootNode, "scrape_configs").Single();
        var discovery = Items(job, "kubernetes_sd_configs").Single();
        Assert.Equal("pod", Text(discovery, "role"));
        Assert.Equal([Text(_k8s.OfKind("Kustomization").Single(), "namespace")], Strings(discovery, "namespaces", "names"));
        Assert.Equal("Bearer", Text(job, "authorization", "type"));
        Assert.False(string.IsNullOrEmpty(Text(job, "authorization", "credentials_file")));

        var relabels = Items(job, "relabel_configs");
        var keep = relabels.Single(r => Has(r, "action") && Text(r, "action") == "keep");
        Assert.Equal(["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], Strings(keep, "source_labels"));
        Assert.Equal("true", Text(keep, "regex"));
        var path = relabels.Single(r => Has(r, "target_label") && Text(r, "target_label") == "__metrics_path__");
        Assert.Equal(["__meta_kubernetes_pod_annotation_prometheus_io_path"], Strings(path, "source_labels"));
        // The address rewrite, applied as Prometheus does (its regex is anchored): the pod's IP with the annotation's port.
        var address = relabels.Single(r => Has(r, "target_label") && Text(r, "target_label") == "__address__");
        Assert.Equal(["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"], Strings(address, "source_labels"));
        var rewritten = Regex.Replace("10.1.2.3:4053;4070", $"^(?:{Text(address, "regex")})$", Text(address, "replacement").Replace("$1", "${1}").Replace("$2", "${2}"));
        Assert.Equal("10.1.2.3:4070", rewritten);
        Assert.Contains(relabels, r => Has(r, "target_label") && Text(r, "target_label") == "role" && Strings(r, "source_labels").SequenceEqual(["__meta_kubernetes_pod_label_app"]));
    }

    [Fact]
    public async Task The_dashboard_asks_only_for_series_the_nodes_export_and_filters_each_by_the_scrape_job()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(RepoFiles.Path("deploy", "grafana", "mapreduce-dashboard.json")));
        var exprs = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();
        Assert.NotEmpty(exprs);
        var exported = (await MetricsScrape.SeriesAsync()).Keys.Select(series => Regex.Match(series, @"^[a-z_]+").Value).ToHashSet();
        var asked = exprs.SelectMany(e => Regex.Matches(e, @"\b((?:mapreduce|process|dotnet)_\w+)\{job=""\$job""").Select(m => m.Groups[1].Value)).ToList();
        // Every metric an expression names carries the job filter, and is exported.
        Assert.Equal(exprs.Sum(e => Regex.Matches(e, @"\b(?:mapreduce|process|dotnet)_\w+").Count), asked.Count);
        foreach (var name in asked) Assert.Contains(name, exported);
        // Every mapreduce_ family is on the dashboard.
        var families = exported.Where(n => n.StartsWith("mapreduce_", StringComparison.Ordinal))
            .Select(n => Regex.Replace(n, "_(bucket|sum|count)$", "")).ToHashSet();
        foreach (var family in families)
            Assert.Contains(asked, a => a == family || a.StartsWith(family + "_", StringComparison.Ordinal));
    }
}
