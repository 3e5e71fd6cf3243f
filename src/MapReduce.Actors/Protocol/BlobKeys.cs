namespace MapReduce.Actors.Protocol;

/// <summary>Where everything lives in the kvstore. Task outputs sit under their attempt, so attempts never overwrite each other.</summary>
public static class BlobKeys
{
    public static string Chunk(string datasetId, int docIndex, int chunkIndex) => $"{DatasetFolder(datasetId)}/{docIndex:D6}-{chunkIndex:D6}";

    /// <summary>
    /// An uploaded dataset's chunk list (<see cref="Protocol.DatasetManifest"/>), beside its chunks;
    /// chunk names are digits, so it never collides with one, and deleting the dataset deletes it.
    /// </summary>
    public static string Manifest(string dirId) => $"{DatasetFolder(dirId)}/manifest";

    /// <summary>Where an uploaded dataset's blobs live: its manifest, and every chunk it lists.</summary>
    public static string DatasetFolder(string dirId) => $"data/{dirId}";

    public static string Code(string codeId) => MapReduce.Storage.Blobs.CodeBlob.KeyOf(codeId);

    /// <summary>The job's key ranges for a total order (its map tasks sample them once); among the map runs, so deleted with them.</summary>
    public static string KeyRanges(JobId job) => $"{MapRunsFolder(job)}/key-ranges";

    public static string MapRun(AttemptId attempt, int partition) => MapRunIn(MapAttemptFolder(attempt), partition);

    /// <summary>Where a map attempt's runs lie, one blob per non-empty partition; an incremental job's later re-runs may read them from here.</summary>
    public static string MapAttemptFolder(AttemptId attempt) => $"{MapRunsFolder(attempt.Job)}/{attempt.Name}";

    public static string MapRunIn(string mapAttemptFolder, int partition) => $"{mapAttemptFolder}/p{partition:D5}";

    /// <summary>Everything a job wrote: its map runs and every reduce attempt's output. Fenced once the job ended (<see cref="MapReduce.Storage.Blobs.JobFence"/>).</summary>
    public static string JobFolder(JobId job) => $"{MapReduce.Storage.Blobs.JobFence.JobsFolder}/{job}";

    public static string MapRunsFolder(JobId job) => $"{JobFolder(job)}/map";

    public static string ReduceAttemptFolder(AttemptId attempt) => $"{JobFolder(attempt.Job)}/reduce/{attempt.Name}";

    /// <summary>The output part a reduce attempt writes (its task's index is the partition).</summary>
    public static string ReduceOutput(AttemptId attempt) => $"{ReduceAttemptFolder(attempt)}/{PartName(attempt.Task.Index)}";

    /// <summary>
    /// What an attempt's user code printed, and its error when it failed. Outside <see cref="JobFolder"/>,
    /// so the janitor's clean-up of an ended job leaves the logs (as Hadoop keeps task logs).
    /// </summary>
    public static string TaskLog(AttemptId attempt) => $"logs/{attempt.Job}/{attempt.Name}.log";

    public static string PartName(int partition) => $"part-{partition:D5}";

    /// <summary>How the ids of job results begin; no client may register a dataset under it (<see cref="Protocol.DatasetIds"/>).</summary>
    public const string ResultPrefix = "result-";

    public static string ResultDatasetId(JobId job) => $"{ResultPrefix}{job}";

    /// <summary>The output parts of a job that succeeded, from each partition's accepted attempt number.</summary>
    public static string[] ResultParts(JobId job, int[] partAttempts) =>
        partAttempts.Select((n, p) => ReduceOutput(new AttemptId(job, TaskId.Reduce(p), n))).ToArray();

    /// <summary>The attempt number in a reduce output key (<c>jobs/J/reduce/r00003.2/part-00003</c> gives 2), as the catalog keeps result parts.</summary>
    public static int AttemptNumberOf(string reduceOutputKey)
    {
        var folder = reduceOutputKey[..reduceOutputKey.LastIndexOf('/')];
        return int.Parse(folder.AsSpan(folder.LastIndexOf('.') + 1), System.Globalization.CultureInfo.InvariantCulture);
    }
}
