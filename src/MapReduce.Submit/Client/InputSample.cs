using System.IO.Compression;
using System.Text;
using MapReduce.Actors.Worker;
using MapReduce.Storage.Chunking;

namespace MapReduce.Submit.Client;

/// <summary>
/// `--sample N`: the first N lines of each input document, written as UTF-8 into a scratch folder
/// and uploaded in place of the files (same document ids; a .gz document stays gzip), so a job can
/// be checked quickly on a little of its input. The cut is made here, at upload, so the dataset
/// stored is exactly what the job reads.
/// </summary>
public sealed class InputSample : IDisposable
{
    private InputSample(string folder, IReadOnlyList<InputDocument> documents)
    {
        Folder = folder;
        Documents = documents;
    }

    /// <summary>The scratch folder holding the sampled files; deleted on dispose.</summary>
    public string Folder { get; }

    /// <summary>The sampled documents, UTF-8, in the order given.</summary>
    public IReadOnlyList<InputDocument> Documents { get; }

    /// <summary>Writes the first <paramref name="lines"/> lines (each with its line end, if it has one) of each of <paramref name="documents"/>.</summary>
    public static InputSample Take(IReadOnlyList<InputDocument> documents, Encoding encoding, int lines)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lines, 1);
        var folder = Directory.CreateTempSubdirectory("mapreduce-sample-").FullName;
        try
        {
            var sampled = new List<InputDocument>(documents.Count);
            for (var i = 0; i < documents.Count; i++)
            {
                var doc = documents[i];
                var path = Path.Combine(folder, $"{i:D6}{(doc.IsGzip ? ChunkText.GzipSuffix : ".txt")}");
                using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                using (var target = doc.IsGzip ? new GZipStream(file, CompressionLevel.Fastest) : (Stream)file)
                {
                    var sink = new FirstLines(target, lines);
                    try
                    {
                        TextSource.Read(doc, encoding, sink, verifyGzip: false);
                    }
                    catch (FirstLines.Enough)
                    {
                        // The rest of the file is not needed (it was checked whole before).
                    }
                }
                var written = new FileInfo(path);
                sampled.Add(new InputDocument(doc.DocId, path, written.Length) { LastWriteUtc = written.LastWriteTimeUtc });
            }
            return new InputSample(folder, sampled);
        }
        catch
        {
            TryDelete(folder);
            throw;
        }
    }

    public void Dispose() => TryDelete(Folder);

    private static void TryDelete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Passes text through up to and including the N-th line end, then stops the read.</summary>
    private sealed class FirstLines(Stream target, int lines) : ITextSink
    {
        /// <summary>Thrown once N lines are written: stops reading a large file early.</summary>
        public sealed class Enough : Exception;

        private int _left = lines;

        public void Write(ReadOnlySpan<byte> utf8)
        {
            while (!utf8.IsEmpty)
            {
                var end = utf8.IndexOf((byte)'\n');
                if (end < 0)
                {
                    target.Write(utf8);
                    return;
                }
                target.Write(utf8[..(end + 1)]);
                utf8 = utf8[(end + 1)..];
                if (--_left == 0) throw new Enough();
            }
        }

        public void Complete() => target.Flush();
    }
}
