using System.Diagnostics;
using System.Security.Cryptography;
using Akka.Actor;
using MapReduce.Actors.KvStore;
using MapReduce.Actors.Master;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Chunking;
using static MapReduce.Actors.Master.MasterProtocol;
using static MapReduce.Actors.Submitter.SubmitterProtocol;

namespace MapReduce.Actors.Submitter;

/// <summary>
/// The CLI's actor in the cluster: uploads input and code to the kvstore, submits the job to the
/// master singleton (through its proxy, so it follows a failover), follows progress and downloads
/// the result parts. It works on one job at a time; a user mistake becomes a failed
/// <see cref="JobOutcome"/> with a one-line message, never an exception.
/// </summary>
public sealed class SubmitterActor : ReceiveActor
{
    private const int ParallelUploads = 4;
    private static readonly TimeSpan MasterTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PollTimeout = TimeSpan.FromSeconds(3);

    private readonly IActorRef _master;
    private readonly BlobClient _blobs;
    private readonly Action<Progress> _report;

    public SubmitterActor(IActorRef masterProxy, BlobClient blobs, Action<Progress> report)
    {
        _master = masterProxy;
        _blobs = blobs;
        _report = report;
        ReceiveAsync<RunJob>(async job =>
        {
            var sender = Sender;
            sender.Tell(await RunAsync(job));
        });
    }

    public static Props Props(IActorRef masterProxy, BlobClient blobs, Action<Progress> report) =>
        Akka.Actor.Props.Create(() => new SubmitterActor(masterProxy, blobs, report));

    private async Task<JobOutcome> RunAsync(RunJob job)
    {
        string? dataId = job.DataId, codeId = job.CodeId, execId = null;
        try
        {
            // Side by side: the code is small, but its first request pays for the data channel's set-up.
            var code = job.CodeFile is { } codeFile ? UploadCodeAsync(codeFile) : Task.FromResult(codeId!);
            var data = job.Documents is { } documents ? UploadDataAsync(documents, job.DataSource ?? "", job.BlockSize) : Task.FromResult(dataId!);
            await Task.WhenAll(code, data);
            (codeId, dataId) = (code.Result, data.Result);

            var reply = await _master.Ask<object>(new SubmitJob(codeId!, dataId!, job.Reducers), MasterTimeout);
            if (reply is JobRejected rejected) return new JobOutcome(false, null, dataId, codeId, rejected.Reason, []);
            var accepted = (JobAccepted)reply;
            execId = accepted.JobId.Value;
            _report(new Submitted(execId, accepted.MapTasks, accepted.ReduceTasks));

            var status = await FollowAsync(accepted.JobId);
            if (status.Stage != JobStage.Succeeded)
                return new JobOutcome(false, execId, dataId, codeId, $"job {execId} failed: {status.Error}", []);

            var files = await DownloadAsync(status.ResultParts(), job.OutputFolder, execId);
            return new JobOutcome(true, execId, dataId, codeId, $"job {execId} succeeded", files);
        }
        catch (AskTimeoutException)
        {
            return new JobOutcome(false, execId, dataId, codeId, $"the master did not answer within {MasterTimeout.TotalSeconds:0} s; is a node with role master up?", []);
        }
        catch (Exception e) when (e is KvStoreException or TimeoutException or IOException or InputException or UnauthorizedAccessException)
        {
            return new JobOutcome(false, execId, dataId, codeId, e.Message, []);
        }
    }

    private async Task<string> UploadCodeAsync(string codeFile)
    {
        var watch = Stopwatch.StartNew();
        var bytes = await File.ReadAllBytesAsync(codeFile);
        // Content-addressed: the same script always gets the same id, and workers compile it once.
        var codeId = "code-" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
        var key = BlobKeys.Code(codeId);
        await _blobs.PutAsync(key, bytes);
        await _blobs.RegisterCodeAsync(new KvStoreProtocol.RegisterCode(codeId, key, codeFile));
        _report(new Uploaded("code", codeId, 1, 1, bytes.Length, watch.Elapsed));
        return codeId;
    }

    private async Task<string> UploadDataAsync(IReadOnlyList<InputDocument> documents, string source, int blockSize)
    {
        var watch = Stopwatch.StartNew();
        var dirId = $"data-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
        var total = documents.Sum(d => d.Length);
        long done = 0;
        var chunks = new List<KvStoreProtocol.DocumentChunk>();
        var inFlight = new List<Task>();
        var lastReport = Stopwatch.StartNew();
        for (var docIndex = 0; docIndex < documents.Count; docIndex++)
        {
            var doc = documents[docIndex];
            List<ChunkRange> ranges;
            await using (var stream = InputFolder.OpenText(doc))
            {
                if (stream.Length != doc.Length) throw Changed(doc);
                ranges = LineChunker.Cuts(stream, blockSize).ToList();
            }
            for (var chunkIndex = 0; chunkIndex < ranges.Count; chunkIndex++)
            {
                var key = BlobKeys.Chunk(dirId, docIndex, chunkIndex);
                chunks.Add(new KvStoreProtocol.DocumentChunk(doc.DocId, chunkIndex, key, ranges[chunkIndex].Length));
                if (inFlight.Count >= ParallelUploads)
                {
                    var finished = await Task.WhenAny(inFlight);
                    inFlight.Remove(finished);
                    await finished;
                }
                inFlight.Add(Upload(doc, key, ranges[chunkIndex]));
            }
        }
        await Task.WhenAll(inFlight);
        // A file that grew or shrank after it was cut would be stored cut off or with a torn last line.
        if (documents.FirstOrDefault(d => new FileInfo(d.FullPath).Length != d.Length) is { } changed) throw Changed(changed);

        // The chunk list goes as a blob: in the message it would grow with the input, and remoting
        // drops a message above its frame size (128,000 bytes; ~3,000 small files) without a word.
        var manifestKey = BlobKeys.Manifest(dirId);
        await _blobs.PutAsync(manifestKey, new DatasetManifest(dirId, [.. chunks]).ToJson());
        await _blobs.RegisterDatasetAsync(new KvStoreProtocol.RegisterDataset(dirId, source, documents.Count, manifestKey));
        _report(new Uploaded("data", dirId, documents.Count, chunks.Count, total, watch.Elapsed));
        return dirId;

        async Task Upload(InputDocument doc, string key, ChunkRange range)
        {
            try
            {
                await _blobs.PutFileRangeAsync(key, doc.FullPath, range.Offset, range.Length);
            }
            catch (SourceChangedException)
            {
                throw Changed(doc);
            }
            var now = Interlocked.Add(ref done, range.Length);
            if (lastReport.ElapsedMilliseconds > 500)
            {
                lastReport.Restart();
                _report(new UploadProgress(now, total));
            }
        }

        static InputException Changed(InputDocument doc) =>
            new($"input file '{doc.DocId}' changed while it was uploaded; run the job again once the file is complete");
    }

    /// <summary>
    /// Follows the job with long polls (the master answers when the counts change, or after about a
    /// second) until it ends. A poll sent while the master fails over is lost, so each waits only a
    /// few seconds and is sent again; the job is given up on only when the master has not answered
    /// at all for <see cref="MasterTimeout"/>.
    /// </summary>
    private async Task<JobStatus> FollowAsync(JobId jobId)
    {
        JobProgress? last = null;
        var lastAnswer = Stopwatch.StartNew();
        while (true)
        {
            object reply;
            try
            {
                reply = await _master.Ask<object>(new GetJobStatus(jobId, last?.MapsDone ?? -1, last?.ReducesDone ?? -1), PollTimeout);
            }
            catch (AskTimeoutException) when (lastAnswer.Elapsed < MasterTimeout)
            {
                continue;
            }
            lastAnswer.Restart();
            if (reply is UnknownJob) throw new KvStoreException($"the master does not know job {jobId}");
            var status = (JobStatus)reply;
            var progress = new JobProgress(status.MapsDone, status.MapsTotal, status.ReducesDone, status.ReducesTotal);
            if (progress != last)
            {
                _report(progress);
                last = progress;
            }
            if (status.IsFinished) return status;
        }
    }

    /// <summary>
    /// Downloads every part into a hidden folder inside the output folder, then swaps it in: old
    /// part-* files are removed only once all new parts are complete, so a failed download never
    /// leaves a mix of two results.
    /// </summary>
    private async Task<IReadOnlyList<string>> DownloadAsync(string[] parts, string outputFolder, string execId)
    {
        var watch = Stopwatch.StartNew();
        Directory.CreateDirectory(outputFolder);
        var incoming = Path.Combine(outputFolder, $".incoming-{execId}");
        Directory.CreateDirectory(incoming);
        try
        {
            var names = parts.Select((_, i) => BlobKeys.PartName(i)).ToArray();
            await _blobs.GetToFilesAsync(parts.Select((key, i) => (key, Path.Combine(incoming, names[i]))).ToList(), ParallelUploads);
            foreach (var old in Directory.EnumerateFiles(outputFolder, "part-*")) File.Delete(old);
            var files = new List<string>();
            long bytes = 0;
            foreach (var name in names)
            {
                var target = Path.Combine(outputFolder, name);
                File.Move(Path.Combine(incoming, name), target);
                files.Add(target);
                bytes += new FileInfo(target).Length;
            }
            _report(new Downloaded(files.Count, bytes, outputFolder, watch.Elapsed));
            return files;
        }
        finally
        {
            try { Directory.Delete(incoming, recursive: true); } catch (IOException) { }
        }
    }
}
