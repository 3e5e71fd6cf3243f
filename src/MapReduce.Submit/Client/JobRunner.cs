using System.Diagnostics;
using System.Text;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Chunking;
using static MapReduce.Actors.Protocol.ApiModels;

namespace MapReduce.Submit.Client;

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
    int Reducers,
    int BlockSize)
{
    /// <summary>The input files' encoding (--encoding): they are checked in it and stored as UTF-8.</summary>
    public Encoding Encoding { get; init; } = TextEncodings.Utf8;

    /// <summary>A job project's archive (<see cref="ProjectBuild"/>), shipped instead of the script <see cref="CodeFile"/> (then the project's path).</summary>
    public byte[]? CodeArchive { get; init; }

    /// <summary>Skip lines on which Map fails every time (--skip-bad-records); null: the cluster's default.</summary>
    public bool? SkipBadRecords { get; init; }

    /// <summary>How the input files are cut and read (--input-format); a stored dataset keeps the format it was uploaded with.</summary>
    public InputFormat InputFormat { get; init; } = InputFormat.Lines;

    /// <summary>--incremental: chunks are uploaded with content ids, and the job reuses what earlier incremental jobs left.</summary>
    public bool Incremental { get; init; }
}

/// <summary>What the upload and submission produced: the ids to reuse, and the job's id.</summary>
/// <remarks><see cref="Reused"/>: an incremental job found nothing changed since job <see cref="JobId"/>, whose result is the answer.</remarks>
public sealed record SubmittedJob(string JobId, string DataId, string CodeId, int MapTasks, int ReduceTasks, bool Reused = false);

/// <summary>
/// The client side of a job, over the control API: uploads input and code (blob bytes straight
/// to the kvstore's data channel, or into its folder on the same machine), submits, follows
/// progress and downloads the result parts.
/// </summary>
public sealed class JobRunner(ClusterApi api, IBlobClient blobs, Action<JobEvent> report)
{
    /// <summary>A client for <paramref name="api"/>'s cluster: asks it where blob bytes go.</summary>
    public static async Task<JobRunner> ConnectAsync(ClusterApi api, bool shortCircuit, Action<JobEvent> report, CancellationToken ct)
    {
        var store = await api.StoreAsync(ct).ConfigureAwait(false);
        var channel = new FixedDataChannel(new KvStoreProtocol.DataEndpoint(store.DataUrl, store.StoreRoot, store.StoreId));
        return new JobRunner(api, new BlobClient(channel, _ => { }, shortCircuit, api.Token, api.ServerCheck), report);
    }

    /// <summary>Uploads what is not stored yet and submits; returns once the job is journaled.</summary>
    public async Task<SubmittedJob> SubmitAsync(RunJob job, CancellationToken ct)
    {
        // Side by side: the code is small, but its first request pays for the data channel's set-up.
        var code = job.CodeFile is { } codeFile ? UploadCodeAsync(codeFile, job.CodeArchive, ct) : Task.FromResult(job.CodeId!);
        var data = job.Documents is { } documents
            ? new DatasetUpload(api, blobs, report).RunAsync(documents, job.DataSource ?? "", job.BlockSize, job.Encoding, ct, job.InputFormat, contentIds: job.Incremental)
            : Task.FromResult(job.DataId!);
        await Task.WhenAll(code, data).ConfigureAwait(false);
        var created = await api.SubmitAsync(new JobRequest(code.Result, data.Result, job.Reducers, job.SkipBadRecords, job.Incremental), ct).ConfigureAwait(false);
        report(new Submitted(created.Id, created.MapTasks, created.ReduceTasks));
        return new SubmittedJob(created.Id, data.Result, code.Result, created.MapTasks, created.ReduceTasks, created.Reused);
    }

    /// <summary>
    /// Follows the job with long polls until it ends; progress goes to the report as it changes, and
    /// so does what the job waits for (the kvstore): once when it starts waiting, once when it is back.
    /// </summary>
    public Task<JobProgress> FollowAsync(string jobId, CancellationToken ct) => FollowAsync(api, jobId, report, ct);

    public static async Task<JobProgress> FollowAsync(ClusterApi api, string jobId, Action<JobEvent> report, CancellationToken ct)
    {
        JobProgress? last = null;
        var waits = new WaitChanges();
        while (true)
        {
            var now = await api.ProgressAsync(jobId, last?.MapsDone ?? -1, last?.ReducesDone ?? -1, ct).ConfigureAwait(false);
            if (last is null || now.MapsDone != last.MapsDone || now.ReducesDone != last.ReducesDone || now.MapsTotal != last.MapsTotal)
                report(new Progressed(now.MapsDone, now.MapsTotal, now.ReducesDone, now.ReducesTotal));
            last = now;
            if (now.IsFinished) return now; // a job that ended waits for nothing: no "back" line for it
            foreach (var change in waits.Update(now.WaitingFor)) report(change);
        }
    }

    private async Task<string> UploadCodeAsync(string codeFile, byte[]? archive, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var bytes = archive ?? await File.ReadAllBytesAsync(codeFile, ct).ConfigureAwait(false);
        // Content-addressed: the same script (or build) always gets the same id, and workers load it once.
        var codeId = CodeBlob.IdOf(archive is null ? CodeKind.Script : CodeKind.Project, bytes);
        var key = BlobKeys.Code(codeId);
        await blobs.PutAsync(key, bytes, ct).ConfigureAwait(false);
        await api.RegisterCodeAsync(new CodeRegistration(codeId, key, codeFile), ct).ConfigureAwait(false);
        report(new Uploaded("code", codeId, 1, 1, bytes.Length, watch.Elapsed));
        return codeId;
    }

    public Task<IReadOnlyList<string>> DownloadAsync(string jobId, IReadOnlyList<string> parts, string outputFolder, CancellationToken ct, ResultFormat format = ResultFormat.Tsv) =>
        ResultDownload.RunAsync(blobs, jobId, parts, outputFolder, report, ct, format);
}
