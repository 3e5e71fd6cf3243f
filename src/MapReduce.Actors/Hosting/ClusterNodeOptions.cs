using MapReduce.Storage.Catalog;

namespace MapReduce.Actors.Hosting;

/// <summary>How one process joins the cluster: its roles, address, seeds and where its state lives; a master also serves the control API on <see cref="HttpPort"/> (0: any free port).</summary>
public sealed record ClusterNodeOptions(
    IReadOnlyList<string> Roles,
    string Host,
    int Port,
    IReadOnlyList<string> Seeds,
    string DataFolder,
    SqlLocation Catalog,
    SqlLocation Journal,
    int TasksPerWorker,
    int HttpPort = 0)
{
    /// <summary>Port of GET /healthz and /readyz (0: any free port); null: not served.</summary>
    public int? HealthPort { get; init; }

    /// <summary>The node's certificate and the cluster's CA; null: remoting over plain TCP, HTTP without TLS.</summary>
    public ClusterTls? Tls { get; init; }

    /// <summary>Workers: compile scripts for a debugger with this task.csx as their source (the CLI's --in-process); null: optimized, no debug information.</summary>
    public string? DebugScriptPath { get; init; }

    public bool Has(string role) => Roles.Contains(role);
}

/// <summary>The registry key of the job master singleton proxy.</summary>
public sealed class JobMasterKey;
