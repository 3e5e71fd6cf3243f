namespace MapReduce.Actors.Hosting;

/// <summary>Where this node's HTTP servers listen once started (<see cref="AkkaSetup"/> fills it in), for the node's start-up lines.</summary>
public sealed class NodeServers
{
    /// <summary>The control API and status page (masters only).</summary>
    public Uri? ControlApi { get; internal set; }

    /// <summary>The health endpoints' base URL (with mapreduce.health or --health-port).</summary>
    public Uri? Health { get; internal set; }
}
