using MapReduce.Storage.Catalog;

namespace MapReduce.Actors.Hosting;

/// <summary>How one process joins the cluster: its roles, address, seeds and where its state lives.</summary>
public sealed record ClusterNodeOptions(
    IReadOnlyList<string> Roles,
    string Host,
    int Port,
    IReadOnlyList<string> Seeds,
    string DataFolder,
    SqlLocation Catalog,
    SqlLocation Journal,
    int TasksPerWorker)
{
    public bool Has(string role) => Roles.Contains(role);
}

/// <summary>The registry key of the job master singleton proxy.</summary>
public sealed class JobMasterKey;
