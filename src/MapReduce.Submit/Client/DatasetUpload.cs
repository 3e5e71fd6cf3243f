using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.Worker;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Chunking;
using MapReduce.Storage.Incremental;
using static MapReduce.Actors.Protocol.ApiModels;

namespace MapReduce.Submit.Client;

/// <summary>
/// Uploads input documents as one dataset: each file cut into chunks at line ends (a .gz file as
/// one chunk, stored compressed), four transfers at a time, then the chunk list as a manifest blob,
/// then the registration. Files in another encoding than UTF-8 are transcoded into a scratch folder
/// first, so that what is stored is always UTF-8 (and a UTF-8 file is copied as it is, by the kernel
/// on the kvstore's machine). A file that changed or went away during the upload fails it, and what
/// was stored of it is deleted: nothing is left behind for a dataset that was not registered.
/// </summary>
public sealed class DatasetUpload(ClusterApi api, IBlobClient blobs, Action<JobEvent> report)
{
    private const int ParallelTransfers = 4;

    /// <summary>Uploads and registers the dataset; returns its id.</summary>
    /// <param name="format">How the files are cut (<see cref="Prepare"/>), and what the chunk keys say (<see cref="InputFormats.KeySuffix"/>).</param>
    /// <param name="contentIds">Give each chunk the hash of its stored bytes (ContentIds), as incremental jobs need.</param>
    public async Task<string> RunAsync(IReadOnlyList<InputDocument> documents, string source, int blockSize, Encoding encoding, CancellationToken ct,
        InputFormat format = InputFormat.Lines, bool contentIds = false)
    {
        var watch = Stopwatch.StartNew();
        var dirId = $"data-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
        var total = documents.Sum(d => d.Length);
        long done = 0;
        var chunks = new List<KvStoreProtocol.DocumentChunk>();
        var inFlight = new List<Task>();
        var lastReport = Stopwatch.StartNew();
        var scratch = TextEncodings.IsUtf8(encoding) || format == InputFormat.WholeFile ? null : Directory.CreateTempSubdirectory("mapreduce-upload-").FullName;
        try
        {
            try
            {
                for (var docIndex = 0; docIndex < documents.Count; docIndex++)
                {
                    var doc = documents[docIndex];
                    if (doc.Length == 0) continue; // an empty file is a document with no chunks
                    var (path, ranges) = Prepare(doc, docIndex, blockSize, encoding, scratch, format);
                    var gzip = doc.IsGzip && format != InputFormat.WholeFile;
                    var stored = ranges.Sum(r => r.Length);
                    var docUploads = new List<Task>();
                    for (var chunkIndex = 0; chunkIndex < ranges.Count; chunkIndex++)
                    {
                        // The key is how a worker knows a chunk is gzip: see ChunkText.
                        var key = BlobKeys.Chunk(dirId, docIndex, chunkIndex) + InputFormats.KeySuffix(format) + (gzip ? ChunkText.GzipSuffix : "");
                        var contentId = contentIds ? ContentIds.OfFileRange(path, ranges[chunkIndex].Offset, ranges[chunkIndex].Length) : null;
                        chunks.Add(new KvStoreProtocol.DocumentChunk(doc.DocId, chunkIndex, key, ranges[chunkIndex].Length, contentId));
                        if (inFlight.Count >= ParallelTransfers)
                        {
                            var finished = await Task.WhenAny(inFlight).ConfigureAwait(false);
                            inFlight.Remove(finished);
                            await finished.ConfigureAwait(false);
                        }
                        var upload = Upload(doc, path, key, ranges[chunkIndex], doc.Length * ranges[chunkIndex].Length / Math.Max(1, stored));
                        inFlight.Add(upload);
                        docUploads.Add(upload);
                    }
                    if (path != doc.FullPath) _ = Task.WhenAll(docUploads).ContinueWith(_ => TryDelete(path), TaskScheduler.Default);
                }
                await Task.WhenAll(inFlight).ConfigureAwait(false);
                // A file that grew, shrank or was rewritten after it was checked would be stored cut off, torn or stale.
                if (documents.Select(Changed).FirstOrDefault(p => p is not null) is { } changed) throw changed;
            }
            catch when (chunks.Count > 0)
            {
                await AbandonAsync(dirId, source, inFlight).ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            if (scratch is not null) TryDeleteFolder(scratch);
        }

        // The chunk list goes as a blob: in a message it would grow with the input.
        var manifestKey = BlobKeys.Manifest(dirId);
        await blobs.PutAsync(manifestKey, new DatasetManifest(dirId, [.. chunks]).ToJson(), ct).ConfigureAwait(false);
        await api.RegisterDatasetAsync(new DatasetRegistration(dirId, source, documents.Count, manifestKey), ct).ConfigureAwait(false);
        report(new Uploaded("data", dirId, documents.Count, chunks.Count, total, watch.Elapsed));
        return dirId;

        async Task Upload(InputDocument doc, string path, string key, ChunkRange range, long progress)
        {
            try
            {
                await blobs.PutFileRangeAsync(key, path, range.Offset, range.Length, ct).ConfigureAwait(false);
            }
            catch (SourceChangedException)
            {
                throw Changed(doc) ?? ChangedWhileUploaded(doc);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw Deleted(doc);
            }
            var now = Interlocked.Add(ref done, progress);
            if (lastReport.ElapsedMilliseconds > 500)
            {
                lastReport.Restart();
                report(new UploadProgress(now, total));
            }
        }
    }

    /// <summary>
    /// The file to store chunks of, and the chunks. A UTF-8 file is stored as it is: cut at line ends,
    /// or, gzip, whole. Another encoding is transcoded into <paramref name="scratch"/> (and recompressed
    /// when gzip), so workers only ever read UTF-8.
    /// </summary>
    /// <remarks>
    /// CSV is cut at record ends (<see cref="CsvChunker"/>), JSON lines at line ends as text is; a
    /// whole file (<see cref="InputFormat.WholeFile"/>) is one chunk of its bytes as they are, never
    /// decoded or decompressed.
    /// </remarks>
    private static (string Path, IReadOnlyList<ChunkRange> Ranges) Prepare(InputDocument doc, int docIndex, int blockSize, Encoding encoding, string? scratch, InputFormat format)
    {
        try
        {
            var path = doc.FullPath;
            if (format == InputFormat.WholeFile) return (path, [new ChunkRange(0, doc.Length)]);
            if (scratch is not null)
            {
                path = Path.Combine(scratch, $"{docIndex:D6}{(doc.IsGzip ? ChunkText.GzipSuffix : ".txt")}");
                using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                using var target = doc.IsGzip ? new GZipStream(file, CompressionLevel.Fastest) : (Stream)file;
                TextSource.Read(doc, encoding, new StreamTextSink(target), verifyGzip: false);
            }
            if (doc.IsGzip) return (path, [new ChunkRange(0, path == doc.FullPath ? doc.Length : new FileInfo(path).Length)]);
            using var stream = path == doc.FullPath ? InputFolder.OpenText(doc) : File.OpenRead(path);
            if (path == doc.FullPath && stream.Length != doc.Length) throw ChangedWhileUploaded(doc);
            return (path, format == InputFormat.Csv ? CsvChunker.Cuts(stream, blockSize) : LineChunker.Cuts(stream, blockSize).ToList());
        }
        catch (CsvSyntaxException e)
        {
            throw new InputException($"input file '{doc.DocId}' is not valid CSV at line {e.Line}: {e.Problem}"); // checked before, so it changed since
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Deleted(doc);
        }
    }

    /// <summary>
    /// Deletes what was stored for a dataset that will not be registered: once the transfers still
    /// running have ended, the dataset is registered without its manifest, which the kvstore refuses,
    /// deleting the dataset's folder as it does for every refused registration. Best effort: a kvstore
    /// that cannot be reached keeps the blobs (space, never a dataset anyone can see).
    /// </summary>
    private async Task AbandonAsync(string dirId, string source, List<Task> inFlight)
    {
        try { await Task.WhenAll(inFlight).ConfigureAwait(false); }
        catch (Exception) { } // the failure being reported, or another like it
        try
        {
            await api.RegisterDatasetAsync(new DatasetRegistration(dirId, source, 0, BlobKeys.Manifest(dirId)), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ApiException or HttpRequestException or TimeoutException or TaskCanceledException) { }
    }

    /// <summary>Why a document no longer is what was listed and checked, or null when it still is.</summary>
    private static InputException? Changed(InputDocument doc)
    {
        var now = FileTypeProbe.Stat(doc.FullPath, followLink: true);
        if (now.Type == FileType.Missing) return Deleted(doc);
        return now.Length != doc.Length || (doc.LastWriteUtc != default && now.LastWriteUtc != doc.LastWriteUtc) ? ChangedWhileUploaded(doc) : null;
    }

    private static InputException ChangedWhileUploaded(InputDocument doc) =>
        new($"input file '{doc.DocId}' changed while it was uploaded; run the job again once the file is complete");

    private static InputException Deleted(InputDocument doc) =>
        new($"input file '{doc.DocId}' was deleted while it was uploaded; run the job again without it, or once it is back");

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void TryDeleteFolder(string folder)
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
