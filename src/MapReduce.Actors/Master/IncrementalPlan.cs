using MapReduce.Actors.Protocol;
using MapReduce.Actors.Worker;
using MapReduce.Storage.Catalog;
using MapReduce.Storage.Incremental;

namespace MapReduce.Actors.Master;

/// <summary>
/// Plans an incremental job (<c>--incremental</c>): its map tasks, each with the content id of its
/// output, and which of those outputs an earlier incremental job left in the store. Tasks are packed
/// per document (<see cref="MapSplits"/> within each file, never across files), so a file that
/// changed changes only its own tasks' ids. When every output is reused and the latest job of the
/// lineage had exactly these, its result is the answer (<see cref="ReusedJob"/>).
/// </summary>
public sealed record IncrementalPlan(MapInput[] Maps, string Lineage, string? ReusedJob)
{
    /// <summary>The plan, or why the dataset cannot be run incrementally.</summary>
    public static (IncrementalPlan? Plan, string? Problem) Of(CatalogStore catalog, DatasetRow dataset, string codeId, int reducers, long splitSize)
    {
        var chunks = catalog.GetChunks(dataset.DirId);
        if (chunks.FirstOrDefault(c => c.ContentId is null) is { } unhashed)
            return (null, $"dataset '{dataset.DirId}' was stored without content ids (document '{unhashed.DocId}'), which --incremental needs: " +
                "upload the input with --incremental (--data FOLDER --incremental)");
        var contentOf = chunks.ToDictionary(c => c.ChunkId, c => c.ContentId!, StringComparer.Ordinal);
        var maps = new List<MapInput>();
        foreach (var document in chunks.GroupBy(c => c.DocId, StringComparer.Ordinal))
            foreach (var split in MapSplits.Plan([.. document], splitSize))
            {
                var input = split with { TaskId = TaskId.Map(maps.Count).ToString() };
                var outputId = ContentIds.MapOutput(codeId, reducers,
                    input.Chunks().Select(c => new ContentIds.MapChunkContent(c.DocId, c.ChunkKey.EndsWith(ChunkText.GzipSuffix, StringComparison.Ordinal), contentOf[c.ChunkKey])));
                maps.Add(input with { OutputId = outputId });
            }
        var kept = catalog.FindMapOutputs(maps.Select(m => m.OutputId!).ToList());
        var planned = maps.Select(m => kept.TryGetValue(m.OutputId!, out var row)
            ? m with { ReusedRuns = row.RunsFolder, ReusedPartitions = Partitions(row.Partitions) }
            : m).ToArray();
        var lineage = ContentIds.Lineage(string.IsNullOrEmpty(dataset.Source) ? dataset.DirId : dataset.Source, codeId, reducers);
        string? reusedJob = null;
        if (planned.All(m => m.IsReused) && catalog.FindIncrementalRun(lineage) is { } latest
            && latest.ResultId == ResultId(codeId, reducers, planned) && catalog.GetDataset(latest.ResultDirId) is not null)
            reusedJob = latest.JobId;
        return (new IncrementalPlan(planned, lineage, reusedJob), null);
    }

    /// <summary>The id of the result of a job with these maps (each with its <see cref="MapInput.OutputId"/>).</summary>
    public static string ResultId(string codeId, int reducers, IEnumerable<MapInput> maps) => ContentIds.JobResult(codeId, reducers, maps.Select(m => m.OutputId!));

    private static int[] Partitions(string text) =>
        text.Length == 0 ? [] : text.Split(',').Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}
