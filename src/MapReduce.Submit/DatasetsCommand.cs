using System.Text.Json;
using MapReduce.Storage.Catalog;

namespace MapReduce.Submit;

/// <summary>`datasets`: what the store holds: uploaded inputs and job results, with their ids.</summary>
public static class DatasetsCommand
{
    public static async Task<int> RunAsync(ClusterOptions o, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (o.OpenSource(error) is not { } source) return ExitCodes.UsageError;
        return await StatusCommand.Guard(error, async () =>
        {
            var datasets = await source.DatasetsAsync(ct);
            if (o.Json)
            {
                output.WriteLine(JsonSerializer.Serialize(datasets, Submission.PrettyJson));
                return ExitCodes.Ok;
            }
            if (datasets.Length == 0) output.WriteLine("no datasets");
            foreach (var d in datasets)
            {
                var size = d.Kind == DatasetKind.Input ? $"{d.Documents} files, {d.Chunks} chunks, {d.Bytes / 1_000_000.0:0.0} MB" : $"{d.Chunks} parts";
                output.WriteLine($"{d.Id}  {d.Kind,-6} {size}  created {d.CreatedAt:u}{(d.Source is null ? "" : $"  from {d.Source}")}");
            }
            return ExitCodes.Ok;
        });
    }
}
