namespace MapReduce.Actors.Master;

/// <summary>Where everything lives in the kvstore. Task outputs sit under their attempt id, so attempts never overwrite each other.</summary>
public static class BlobKeys
{
    public static string Chunk(string dirId, int docIndex, int chunkIndex) => $"data/{dirId}/{docIndex:D6}-{chunkIndex:D6}";

    public static string Code(string codeId) => $"code/{codeId}/task.csx";

    public static string MapRun(string execId, string attemptId, int partition) => $"jobs/{execId}/map/{attemptId}/p{partition:D5}";

    public static string ReduceOutput(string execId, string attemptId, int partition) => $"jobs/{execId}/reduce/{attemptId}/{PartName(partition)}";

    public static string PartName(int partition) => $"part-{partition:D5}";

    public static string ResultDirId(string execId) => $"result-{execId}";
}
