using System.Diagnostics;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Protocol;

namespace MapReduce.Submit.Client;

/// <summary>A succeeded job's result parts into an output folder, all or nothing.</summary>
public static class ResultDownload
{
    private const int ParallelDownloads = 4;

    /// <summary>
    /// Downloads every part into a hidden folder inside the output folder, then swaps it in: old
    /// part-* files are removed only once all new parts are complete, so a failed download never
    /// leaves a mix of two results. The hidden folder's name is built here from a checked job id.
    /// </summary>
    /// <param name="format">How the parts are written (<see cref="ResultFormats"/>); stored, they are tsv.</param>
    public static async Task<IReadOnlyList<string>> RunAsync(IBlobClient blobs, string jobId, IReadOnlyList<string> parts, string outputFolder, Action<JobEvent> report, CancellationToken ct,
        ResultFormat format = ResultFormat.Tsv)
    {
        var watch = Stopwatch.StartNew();
        Directory.CreateDirectory(outputFolder);
        var incoming = Path.Combine(outputFolder, $".incoming-{new string(jobId.Where(char.IsAsciiLetterOrDigit).ToArray())}");
        Directory.CreateDirectory(incoming);
        try
        {
            var names = parts.Select((_, i) => BlobKeys.PartName(i)).ToArray();
            await blobs.GetToFilesAsync(parts.Select((key, i) => (key, Path.Combine(incoming, names[i]))).ToList(), ParallelDownloads, ct).ConfigureAwait(false);
            if (format != ResultFormat.Tsv)
            {
                foreach (var name in names)
                {
                    var tsv = Path.Combine(incoming, name);
                    ResultFormats.Convert(tsv, Path.Combine(incoming, ResultFormats.FileName(name, format)), format);
                    File.Delete(tsv);
                }
                names = [.. names.Select(n => ResultFormats.FileName(n, format))];
            }
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
            report(new Downloaded(files.Count, bytes, outputFolder, watch.Elapsed));
            return files;
        }
        finally
        {
            try { Directory.Delete(incoming, recursive: true); } catch (IOException) { }
        }
    }
}
