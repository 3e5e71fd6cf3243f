using System.IO.Compression;
using System.Text;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Worker;
using MapReduce.Storage.Blobs;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Worker;

/// <summary>
/// How a map task reads a chunk, from a real folder store: a plain chunk whole, a gzip chunk (key
/// ending in .gz) decompressed as a stream into slices of whole lines, each at most the slice size
/// unless it is one longer line, together exactly the text, counted in bytes and lines.
/// </summary>
public sealed class ChunkTextTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly LocalBlobStore _store;
    private readonly DirectBlobClient _blobs;

    public ChunkTextTests()
    {
        _store = new LocalBlobStore(_folder.File("store"));
        _blobs = new DirectBlobClient(_store, _ => { });
    }

    public void Dispose()
    {
        _store.Dispose();
        _folder.Dispose();
    }

    private static byte[] Gzip(byte[] text)
    {
        var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(text);
        return compressed.ToArray();
    }

    private async Task<List<TextSlice>> SlicesAsync(string key, int sliceBytes)
    {
        using var text = await ChunkText.OpenAsync(_blobs, key, sliceBytes, CancellationToken.None);
        var slices = new List<TextSlice>();
        await foreach (var slice in text.SlicesAsync()) slices.Add(slice);
        return slices;
    }

    [Fact]
    public async Task A_plain_chunk_is_one_slice_with_its_bytes_and_lines()
    {
        var text = "héllo world\nlast line without end";
        _store.Put("data/d/000000-000000", Encoding.UTF8.GetBytes(text));
        var slices = await SlicesAsync("data/d/000000-000000", 4);
        Assert.Equal([new TextSlice(text, Encoding.UTF8.GetByteCount(text), 2)], slices);
        Assert.False(ChunkText.IsGzip("data/d/000000-000000"));
    }

    [Fact]
    public async Task A_gzip_chunk_is_mapped_in_slices_of_whole_lines_that_rejoin_to_its_text()
    {
        var random = new Random(11);
        var lines = Enumerable.Range(0, 3000).Select(i => string.Concat(Enumerable.Repeat("wörd ", random.Next(0, 30))) + $"{i}").ToList();
        lines[1234] = new string('L', 10_000); // longer than a slice: its slice grows to hold it
        var text = string.Join('\n', lines) + "\n";
        var bytes = Encoding.UTF8.GetBytes(text);
        _store.Put("data/d/000000-000000.gz", Gzip([.. Encoding.UTF8.Preamble, .. bytes]));
        Assert.True(ChunkText.IsGzip("data/d/000000-000000.gz"));

        const int sliceBytes = 4096;
        var slices = await SlicesAsync("data/d/000000-000000.gz", sliceBytes);

        Assert.Equal(text, string.Concat(slices.Select(s => s.Text))); // the byte order mark is not text
        Assert.All(slices, s => Assert.EndsWith("\n", s.Text));
        Assert.All(slices, s => Assert.True(s.Bytes <= sliceBytes || s.Text.TrimEnd('\n').Split('\n').Length == 1 || s.Text.Contains(lines[1234]),
            $"a slice of {s.Bytes} bytes holds several lines"));
        Assert.Equal(bytes.Length, slices.Sum(s => s.Bytes));
        Assert.Equal(lines.Count, slices.Sum(s => s.Lines));
        // Cut at the last line end of a full slice: every slice is nearly full but the last, the long line's and the one cut before it.
        var longest = lines.Where((_, i) => i != 1234).Max(l => Encoding.UTF8.GetByteCount(l)) + 1;
        var longLine = slices.FindIndex(s => s.Text.Contains(lines[1234]));
        Assert.All(slices.Where((_, i) => i < slices.Count - 1 && i != longLine && i != longLine - 1),
            s => Assert.True(s.Bytes > sliceBytes - longest, $"a slice of only {s.Bytes} bytes"));
        Assert.All(slices.Where(s => !s.Text.Contains(lines[1234])), s => Assert.True(s.Bytes <= sliceBytes));
    }

    [Fact]
    public async Task A_gzip_chunk_without_a_last_line_end_and_one_of_no_text_are_read_as_they_are()
    {
        _store.Put("data/d/000001-000000.gz", Gzip("one\ntwo"u8.ToArray()));
        Assert.Equal([new TextSlice("one\ntwo", 7, 2)], await SlicesAsync("data/d/000001-000000.gz", 1024));
        _store.Put("data/d/000002-000000.gz", Gzip([]));
        Assert.Empty(await SlicesAsync("data/d/000002-000000.gz", 1024));
    }

    [Fact]
    public async Task A_stored_chunk_that_is_not_valid_utf8_fails_instead_of_being_altered()
    {
        _store.Put("data/d/000003-000000", [(byte)'a', 0xFF, (byte)'\n']);
        await Assert.ThrowsAsync<DecoderFallbackException>(() => SlicesAsync("data/d/000003-000000", 1024));
    }
}
