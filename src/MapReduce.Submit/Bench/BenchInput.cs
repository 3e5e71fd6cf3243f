using System.Text;

namespace MapReduce.Submit.Bench;

/// <summary>
/// The benchmark's input: the sample books concatenated and repeated into <c>files</c> files that
/// add up to about <c>totalBytes</c>, each cut at a line end. Made once per size and reused.
/// </summary>
public static class BenchInput
{
    public static string Ensure(string benchFolder, string samplesFolder, long totalBytes, int files)
    {
        var folder = Path.Combine(benchFolder, $"input-{totalBytes}-{files}");
        var marker = Path.Combine(benchFolder, $"input-{totalBytes}-{files}.done");
        if (File.Exists(marker) && Directory.Exists(folder)) return folder;
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);

        var books = SampleText(samplesFolder);
        var perFile = totalBytes / files;
        for (var i = 0; i < files; i++)
        {
            using var output = new FileStream(Path.Combine(folder, $"books-{i:D3}.txt"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            long written = 0;
            while (written < perFile)
            {
                var take = (int)Math.Min(books.Length, perFile - written);
                if (take < books.Length)
                {
                    // End on a line end, so no word is cut in two; a file's share may be a little short.
                    var newline = Array.LastIndexOf(books, (byte)'\n', take - 1);
                    if (newline < 0) break;
                    take = newline + 1;
                }
                output.Write(books, 0, take);
                written += take;
            }
        }
        File.WriteAllText(marker, "");
        return folder;
    }

    /// <summary>A few KB of the books: the tiny job's input.</summary>
    public static string EnsureTiny(string benchFolder, string samplesFolder, int bytes = 4096)
    {
        var folder = Path.Combine(benchFolder, bytes == 4096 ? "input-tiny" : $"input-tiny-{bytes}");
        Directory.CreateDirectory(folder);
        var books = SampleText(samplesFolder);
        var end = Array.LastIndexOf(books, (byte)'\n', Math.Min(bytes, books.Length) - 1) + 1;
        File.WriteAllBytes(Path.Combine(folder, "tiny.txt"), books[..end]);
        return folder;
    }

    /// <summary>
    /// One file of <paramref name="lines"/> lines of words from the books, each under
    /// <paramref name="lineBytes"/> bytes and over half of it: cut into chunks of at most
    /// <paramref name="lineBytes"/> bytes, every line is a chunk of its own.
    /// </summary>
    public static string EnsureLines(string benchFolder, string samplesFolder, int lines, int lineBytes)
    {
        var folder = Path.Combine(benchFolder, $"input-lines-{lines}-{lineBytes}");
        var marker = folder + ".done";
        if (File.Exists(marker) && Directory.Exists(folder)) return folder;
        Directory.CreateDirectory(folder);
        var words = Encoding.UTF8.GetString(SampleText(samplesFolder)).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        using (var output = new StreamWriter(Path.Combine(folder, "lines.txt"), false, new UTF8Encoding(false)))
        {
            var line = new StringBuilder();
            var (next, bytes) = (0, 0);
            for (var written = 0; written < lines;)
            {
                var word = words[next++ % words.Length];
                var size = Encoding.UTF8.GetByteCount(word);
                if (size > lineBytes / 4) continue;
                if (bytes + 1 + size + 1 > lineBytes)
                {
                    output.Write(line.Append('\n'));
                    (line, bytes) = (line.Clear(), 0);
                    written++;
                }
                if (bytes > 0) line.Append(' ');
                line.Append(word);
                bytes += size + (bytes > 0 ? 1 : 0);
            }
        }
        File.WriteAllText(marker, "");
        return folder;
    }

    private static byte[] SampleText(string samplesFolder)
    {
        if (!Directory.Exists(samplesFolder)) throw new BenchInputException($"sample folder '{samplesFolder}' does not exist");
        var text = new MemoryStream();
        foreach (var file in Directory.GetFiles(samplesFolder, "*.txt").Order(StringComparer.Ordinal))
        {
            var bytes = File.ReadAllBytes(file);
            var start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
            text.Write(bytes, start, bytes.Length - start);
            if (bytes.Length > 0 && bytes[^1] != '\n') text.WriteByte((byte)'\n');
        }
        if (text.Length == 0) throw new BenchInputException($"sample folder '{samplesFolder}' holds no .txt files");
        return text.ToArray();
    }
}
