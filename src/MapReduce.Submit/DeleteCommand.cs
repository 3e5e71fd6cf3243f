using MapReduce.Actors.Hosting;
using MapReduce.Node;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Master.MasterProtocol;

namespace MapReduce.Submit;

public sealed record DeleteOptions(IReadOnlyList<string> DirIds, IReadOnlyList<string> Seeds, string StoreFolder, string? ConfigFile);

/// <summary>
/// `delete`: removes stored datasets (uploaded inputs or job results), their catalog rows and
/// chunks. It goes through the master, which refuses a dataset that a job still running reads, so
/// a deletion can never pull the input from under a job. Without --seed it starts a local cluster
/// on the store (no workers), as a job would.
/// </summary>
public static class DeleteCommand
{
    public static async Task<int> RunAsync(DeleteOptions options, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var config = MapReduceSettings.LoadConfig(options.ConfigFile);
        var settings = MapReduceSettings.From(config);
        if (options.Seeds.Count == 0 && LocalProblem(options) is { } problem)
        {
            error.WriteLine($"error: {problem}");
            return JobCommand.UsageError;
        }

        LocalCluster? local = null;
        SubmitterNode? node = null;
        try
        {
            var seeds = options.Seeds;
            if (seeds.Count == 0)
            {
                output.WriteLine($"starting a local cluster (1 kvstore, {settings.LocalMasters} masters) in {Path.GetFullPath(options.StoreFolder)}");
                local = await LocalCluster.StartAsync(new LocalClusterOptions(options.StoreFolder, 0, 1, 0, options.ConfigFile, settings.LocalMasters), ct);
                seeds = [local.Seed];
            }
            node = await SubmitterNode.JoinAsync(seeds, options.StoreFolder, config, settings, ct);
            var failed = 0;
            foreach (var dirId in options.DirIds)
            {
                switch (await node.DeleteDatasetAsync(dirId, ct))
                {
                    case DatasetDeleted deleted:
                        output.WriteLine($"deleted dataset {deleted.DatasetId}: {deleted.Chunks} chunks, {deleted.Bytes / 1_000_000.0:0.0} MB");
                        break;
                    case DeleteRejected rejected:
                        error.WriteLine($"error: {rejected.Reason}");
                        failed++;
                        break;
                }
            }
            return failed == 0 ? JobCommand.Ok : JobCommand.JobFailed;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("cancelled");
            return JobCommand.JobFailed;
        }
        catch (Akka.Actor.AskTimeoutException)
        {
            error.WriteLine($"error: the master did not answer within {SubmitterNode.DeleteTimeout.TotalSeconds:0} s; is a node with role master up? (`datasets` shows whether the dataset is still there)");
            return JobCommand.ClusterError;
        }
        catch (Exception e) when (e is TimeoutException or LocalClusterException)
        {
            error.WriteLine($"error: {e.Message}");
            return JobCommand.ClusterError;
        }
        finally
        {
            await Task.WhenAll(node is null ? Task.CompletedTask : node.DisposeAsync().AsTask(),
                local is null ? Task.CompletedTask : local.DisposeAsync().AsTask());
        }
    }

    /// <summary>In local mode the catalog is a file in the store: a wrong store or id is told at once, without starting a cluster.</summary>
    private static string? LocalProblem(DeleteOptions options)
    {
        var catalogFile = Path.Combine(options.StoreFolder, "catalog.db");
        if (!File.Exists(catalogFile)) return $"no catalog at {catalogFile}; run a job first or pass --store";
        var catalog = new CatalogStore(SqlLocation.SqliteFile(catalogFile));
        return options.DirIds.FirstOrDefault(id => catalog.GetDataset(id) is null) is { } unknown
            ? $"dataset '{unknown}' is not in the store at {Path.GetFullPath(options.StoreFolder)} (the datasets command lists them)"
            : null;
    }
}
