using MapReduce.Node;
using MapReduce.Storage.Catalog;

namespace MapReduce.Submit;

/// <summary>
/// `delete`: removes stored datasets (uploaded inputs or job results), their catalog rows and
/// chunks. It goes through the master, which refuses a dataset that a job still running reads, so
/// a deletion can never pull the input from under a job. With no cluster running on the store it
/// starts a local one (no workers), as a job would.
/// </summary>
public static class DeleteCommand
{
    public static async Task<int> RunAsync(ClusterOptions o, IReadOnlyList<string> ids, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var settings = o.Settings;
        if (ClusterConnection.Find(o.Connect, settings) is null && LocalProblem(o.StoreFolder, ids) is { } problem)
        {
            error.WriteLine($"error: {problem}");
            return ExitCodes.UsageError;
        }
        ClusterConnection cluster;
        try
        {
            cluster = await ClusterConnection.OpenAsync(o.Connect, settings, output, ct);
        }
        catch (Exception e) when (e is LocalClusterException or TimeoutException)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.ClusterError;
        }
        await using (cluster)
        {
            var failed = 0;
            foreach (var id in ids)
            {
                var code = await StatusCommand.Guard(error, async () =>
                {
                    var deleted = await cluster.Api.DeleteDatasetAsync(id, ct);
                    output.WriteLine($"deleted dataset {deleted.DatasetId}: {deleted.Chunks} chunks, {deleted.Bytes / 1_000_000.0:0.0} MB");
                    return ExitCodes.Ok;
                });
                if (code != ExitCodes.Ok) failed++;
            }
            return failed == 0 ? ExitCodes.Ok : ExitCodes.JobFailed;
        }
    }

    /// <summary>In local mode the catalog is a file in the store: a wrong store or id is told at once, without starting a cluster.</summary>
    private static string? LocalProblem(string store, IReadOnlyList<string> ids)
    {
        var catalogFile = Path.Combine(store, "catalog.db");
        if (!File.Exists(catalogFile)) return $"no catalog at {catalogFile}; run a job first or pass --store";
        var catalog = new CatalogStore(SqlLocation.SqliteFile(catalogFile));
        return ids.FirstOrDefault(id => catalog.GetDataset(id) is null) is { } unknown
            ? $"dataset '{unknown}' is not in the store at {Path.GetFullPath(store)} (the datasets command lists them)"
            : null;
    }
}
