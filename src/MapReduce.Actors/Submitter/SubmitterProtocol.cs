using MapReduce.Storage.Chunking;

namespace MapReduce.Actors.Submitter;

/// <summary>Messages of the submitter actor, which runs one job for the CLI from upload to download.</summary>
public static class SubmitterProtocol
{
    /// <summary>
    /// A job to run. Data comes either as <see cref="Documents"/> (checked input files, uploaded
    /// first) or as the id of a dataset already in the store; code likewise.
    /// </summary>
    public sealed record RunJob(
        IReadOnlyList<InputDocument>? Documents,
        string? DataSource,
        string? DataId,
        string? CodeFile,
        string? CodeId,
        string OutputFolder,
        int Reducers,
        int BlockSize);

    public sealed record JobOutcome(bool Succeeded, string? ExecId, string? DataId, string? CodeId, string Message, IReadOnlyList<string> OutputFiles);

    /// <summary>What the submitter reports while it works; the CLI prints it.</summary>
    public abstract record Progress;

    public sealed record Uploaded(string What, string Id, int Files, int Chunks, long Bytes, TimeSpan Took) : Progress;

    public sealed record UploadProgress(long BytesDone, long BytesTotal) : Progress;

    public sealed record Submitted(string ExecId, int MapTasks, int ReduceTasks) : Progress;

    public sealed record JobProgress(int MapsDone, int MapsTotal, int ReducesDone, int ReducesTotal) : Progress;

    public sealed record Downloaded(int Parts, long Bytes, string Folder, TimeSpan Took) : Progress;
}
