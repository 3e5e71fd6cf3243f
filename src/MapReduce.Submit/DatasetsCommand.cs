using MapReduce.Storage.Catalog;

namespace MapReduce.Submit;

/// <summary>`datasets`: what the store holds, as the catalog records it: uploaded inputs and job results, with their ids.</summary>
public static class DatasetsCommand
{
    public static int Run(SqlLocation catalogLocation, TextWriter output, TextWriter error)
    {
        if (StatusCommand.MissingCatalog(catalogLocation) is { } missing)
        {
            error.WriteLine($"error: {missing}");
            return JobCommand.UsageError;
        }
        var datasets = new CatalogStore(catalogLocation).ListDatasets();
        if (datasets.Count == 0) output.WriteLine("no datasets");
        foreach (var d in datasets)
        {
            var size = d.Kind == DatasetKind.Input ? $"{d.Documents} files, {d.Chunks} chunks, {d.Bytes / 1_000_000.0:0.0} MB" : $"{d.Chunks} parts";
            output.WriteLine($"{d.DirId}  {d.Kind,-6} {size}  created {d.CreatedAt:u}{(d.Source is null ? "" : $"  from {d.Source}")}");
        }
        return JobCommand.Ok;
    }
}
