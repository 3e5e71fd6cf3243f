namespace MapReduce.Actors.Protocol;

/// <summary>
/// Control messages of the kvstore actor (role kvstore, at /user/kvstore). Blob bytes do not travel
/// here: they go over the kvstore's HTTP data channel (<see cref="BlobHttpServer"/>), whose address
/// <see cref="GetDataEndpoint"/> tells.
/// </summary>
public static class KvStoreProtocol
{
    /// <summary>Asks where the kvstore serves blob bytes; answered with <see cref="DataEndpoint"/>.</summary>
    public sealed record GetDataEndpoint;

    /// <summary>
    /// Base URL of the kvstore's data channel, e.g. http://127.0.0.1:41234/, and where its blob
    /// folder is: a client on the same machine that finds <paramref name="StoreId"/> in that folder
    /// reads and writes the files directly (see <see cref="BlobClient"/>).
    /// </summary>
    public sealed record DataEndpoint(string BaseUrl, string StoreRoot, string StoreId);

    /// <summary>A request the kvstore could not serve (invalid key, I/O error); the message says why.</summary>
    public sealed record KvStoreFailure(string Message);

    /// <summary>
    /// One chunk of an uploaded dataset, as its <see cref="DatasetManifest"/> lists it. <see cref="ContentId"/>:
    /// the hash of its bytes (Storage.Incremental.ContentIds), given by an upload for <c>--incremental</c>; null otherwise.
    /// </summary>
    public sealed record DocumentChunk(string DocId, int ChunkIndex, string ChunkKey, long Bytes, string? ContentId = null);

    /// <summary>
    /// Records an uploaded dataset in the catalog once all its chunks and its manifest are stored.
    /// The chunk list is the manifest blob at <paramref name="ManifestKey"/> (always
    /// <c>BlobKeys.Manifest(DirId)</c>), not part of the message: a message that grew with the input
    /// would pass remoting's frame size and be dropped. Answered with <see cref="DatasetRegistered"/>,
    /// or <see cref="KvStoreFailure"/> when the manifest is missing or not valid JSON, or a chunk it
    /// lists was never stored.
    /// </summary>
    public sealed record RegisterDataset(string DirId, string Source, int Documents, string ManifestKey);

    public sealed record DatasetRegistered(string DirId);

    /// <summary>
    /// Deletes a dataset: its catalog rows, then its chunks and manifest. Answered with <see cref="DatasetRemoved"/>,
    /// or <see cref="KvStoreFailure"/> when there is no such dataset. Only the master sends it: it
    /// knows which jobs still read a dataset.
    /// </summary>
    public sealed record RemoveDataset(string DirId);

    public sealed record DatasetRemoved(string DirId, int Chunks, long Bytes);

    /// <summary>
    /// A job ended: its end marker is stored (<see cref="MapReduce.Storage.Blobs.JobFence.Marker"/>: from then on no write
    /// into its folder stays), and only then is every blob under <paramref name="Leftovers"/> (key
    /// prefixes in its folder: its map runs, the attempts that lost, or all of it) deleted. Answered
    /// with <see cref="FoldersRemoved"/>; asked again (a take-over, a kvstore that was away) it does the same.
    /// </summary>
    public sealed record CleanUpJob(JobId Job, string[] Leftovers);

    public sealed record FoldersRemoved(int Blobs);

    /// <summary>
    /// An incremental job succeeded: record it as its lineage's latest with the map outputs it used,
    /// and delete the lineage's other map outputs (but those in <see cref="InUse"/>: running jobs read
    /// them). Answered with <see cref="FoldersRemoved"/>.
    /// </summary>
    public sealed record KeepMapOutputs(string Lineage, string JobId, string ResultId, string DirId, string ResultDirId, KeptMapOutput[] Outputs, string[] InUse,
        DateTime SubmittedAt)
    {
        /// <summary>The catalog rows that record it.</summary>
        public (Storage.Catalog.IncrementalRunRow Run, List<Storage.Catalog.MapOutputRow> Outputs) Rows() => (
            new Storage.Catalog.IncrementalRunRow { Lineage = Lineage, JobId = JobId, ResultId = ResultId, DirId = DirId, ResultDirId = ResultDirId, SubmittedAt = SubmittedAt },
            Outputs.Select(o => new Storage.Catalog.MapOutputRow
            {
                OutputId = o.OutputId, Lineage = Lineage, RunsFolder = o.RunsFolder, JobId = JobId, Partitions = string.Join(',', o.Partitions),
            }).ToList());
    }

    /// <summary>One map output an incremental job used: its id, the folder of its runs, the partitions it has a run for.</summary>
    public sealed record KeptMapOutput(string OutputId, string RunsFolder, int[] Partitions);

    public sealed record RegisterCode(string CodeId, string BlobKey, string Source);

    public sealed record CodeRegistered(string CodeId);
}
