using MapReduce.Actors.Hosting;
using MapReduce.Submit.Client;

namespace MapReduce.Submit;

/// <summary>What every command after `submit` is told about where the cluster is, and how to print.</summary>
public sealed record ClusterOptions(IReadOnlyList<string> ClusterUrls, string StoreFolder, string? ConfigFile, bool Json = false)
{
    public ConnectOptions Connect => new(ClusterUrls, StoreFolder, ConfigFile);

    public MapReduceSettings Settings => MapReduceSettings.From(MapReduceSettings.LoadConfig(ConfigFile));

    /// <summary>The running cluster's API, else the store read directly (a finished job can still be read and downloaded), else null with the reason.</summary>
    public IJobSource? OpenSource(TextWriter error)
    {
        if (ClusterConnection.Find(Connect, Settings) is { } cluster) return new ApiJobSource(cluster.Api, cluster.Description);
        if (StoreJobSource.Open(StoreFolder) is { } store) return store;
        error.WriteLine($"error: no cluster runs on the store {Path.GetFullPath(StoreFolder)} and it holds no catalog; run a job first, or pass --cluster URL or --store FOLDER");
        return null;
    }
}
