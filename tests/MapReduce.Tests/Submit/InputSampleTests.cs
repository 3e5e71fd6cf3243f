using System.IO.Compression;
using System.Text;
using MapReduce.Storage.Chunking;
using MapReduce.Submit.Client;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Submit;

/// <summary>`--sample N`: the first N lines of each file, as UTF-8, whatever the file's form (plain, gzip, another encoding, a BOM, no last line end).</summary>
public sealed class InputSampleTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>The text up to and including the n-th '\n', or all of it when it has fewer lines: computed here without the sampler.</summary>
    private static string FirstLines(string text, int n)
    {
        var end = -1;
        for (var i = 0; i < n; i++)
        {
            end = text.IndexOf('\n', end + 1);
            if (end < 0) return text;
        }
        return text[..(end + 1)];
    }

    private static string Lines(int count, string word) => string.Concat(Enumerable.Range(1, count).Select(i => $"{word} {i}\n"));

    private InputDocument Doc(string name, byte[] bytes)
    {
        var path = _folder.File(name);
        File.WriteAllBytes(path, bytes);
        return new InputDocument(name, path, bytes.Length);
    }

    private static string ReadSampled(InputDocument doc)
    {
        using var file = File.OpenRead(doc.FullPath);
        using var text = doc.IsGzip ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
        using var reader = new StreamReader(text, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false);
        return reader.ReadToEnd();
    }

    [Fact]
    public void Each_document_keeps_its_id_and_its_first_lines_as_utf8()
    {
        var long1 = Lines(5000, "long");
        var shortNoEnd = "one\ntwo\nthree without end";
        var zipped = new MemoryStream();
        using (var gz = new GZipStream(zipped, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(Encoding.UTF8.GetBytes(Lines(300, "zipped")));
        var documents = new[]
        {
            Doc("a.txt", Encoding.UTF8.GetBytes(long1)),
            Doc("b.txt", [.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(shortNoEnd)]),
            Doc("c.txt.gz", zipped.ToArray()),
            Doc("empty.txt", []),
        };

        using var sample = InputSample.Take(documents, TextEncodings.Utf8, 10);

        Assert.Equal(["a.txt", "b.txt", "c.txt.gz", "empty.txt"], sample.Documents.Select(d => d.DocId));
        Assert.All(sample.Documents, d => Assert.Equal(new FileInfo(d.FullPath).Length, d.Length));
        Assert.Equal([FirstLines(long1, 10), shortNoEnd, FirstLines(Lines(300, "zipped"), 10), ""], sample.Documents.Select(ReadSampled));
        Assert.True(sample.Documents[2].IsGzip);
        var folder = sample.Folder;
        sample.Dispose();
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void A_latin1_file_is_sampled_as_utf8()
    {
        var text = Lines(20, "café naïve");
        using var sample = InputSample.Take([Doc("menu.txt", Encoding.Latin1.GetBytes(text))], Encoding.Latin1, 3);
        Assert.Equal(FirstLines(text, 3), ReadSampled(sample.Documents[0]));
        Assert.Equal("café naïve 1\ncafé naïve 2\ncafé naïve 3\n", ReadSampled(sample.Documents[0]));
    }
}
