namespace MapReduce.Actors.Master;

/// <summary>Where everything lives in the kvstore. Task outputs sit under their attempt id, so attempts never overwrite each other.</summary>
public static class BlobKeys
{
    public static string Chunk(string dirId, int docIndex, int chunkIndex) => $"data/{dirId}/{docIndex:D6}-{chunkIndex:D6}";

    /// <summary>
    /// An uploaded dataset's chunk list (<see cref="KvStore.DatasetManifest"/>), beside its chunks;
    /// chunk names are digits, so it never collides with one, and deleting the dataset deletes it.
    /// </summary>
    public static string Manifest(string dirId) => $"data/{dirId}/manifest";

    public static string Code(string codeId) => $"code/{codeId}/task.csx";

    public static string MapRun(string execId, string attemptId, int partition) => $"{MapRunsFolder(execId)}/{attemptId}/p{partition:D5}";

    /// <summary>Everything a job wrote: its map runs and every reduce attempt's output.</summary>
    public static string JobFolder(string execId) => $"jobs/{execId}";

    public static string MapRunsFolder(string execId) => $"jobs/{execId}/map";

    public static string ReduceAttemptFolder(string execId, string attemptId) => $"jobs/{execId}/reduce/{attemptId}";

    public static string ReduceOutput(string execId, string attemptId, int partition) => $"{ReduceAttemptFolder(execId, attemptId)}/{PartName(partition)}";

    public static string PartName(int partition) => $"part-{partition:D5}";

    public static string ResultDirId(string execId) => $"result-{execId}";
}
