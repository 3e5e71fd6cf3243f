using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;

namespace MapReduce.Actors.Master;

/// <summary>
/// Packs a dataset's chunks into map tasks, as Spark packs small files into partitions. A task
/// reads at most MaxChunksPerTask chunks and maxSplit = min(split-size, max(OpenCost, total / MinTasks)) bytes, and each chunk
/// counts OpenCost bytes more than its length (a fetch and a Map call cost something however small
/// the chunk). A small input keeps one task per chunk, for parallelism; the many small files of a
/// large input share tasks, so a task's fixed costs (sorting and writing one run per partition
/// for the reducers to merge, a round trip to the master) are paid fewer times. Chunks keep their
/// catalog order; the plan is journaled with the job, so a replay never re-plans.
/// </summary>
public static class MapSplits
{
    public const long OpenCost = 1 << 20;
    public const int MinTasks = 16;
    /// <summary>Most chunks one task reads, whatever split-size says: the task's message names each, and must stay far below the remoting frame size.</summary>
    public const int MaxChunksPerTask = 256;

    public static MapInput[] Plan(IReadOnlyList<ChunkRow> chunks, long splitSize)
    {
        var total = chunks.Sum(c => c.Bytes + OpenCost);
        var maxSplit = Math.Min(splitSize, Math.Max(OpenCost, total / MinTasks));
        var tasks = new List<MapInput>();
        var split = new List<ChunkRow>();
        long size = 0;
        foreach (var chunk in chunks)
        {
            var cost = chunk.Bytes + OpenCost;
            if (split.Count > 0 && (size + cost > maxSplit || split.Count == MaxChunksPerTask)) Close();
            split.Add(chunk);
            size += cost;
        }
        if (split.Count > 0) Close();
        return [.. tasks];

        void Close()
        {
            var first = split[0];
            var more = split.Skip(1).Select(c => new MapChunk(c.DocId, c.ChunkIndex, c.ChunkId)).ToArray();
            tasks.Add(new MapInput(TaskId.Map(tasks.Count).ToString(), first.DocId, first.ChunkIndex, first.ChunkId, more.Length > 0 ? more : null));
            split.Clear();
            size = 0;
        }
    }
}
