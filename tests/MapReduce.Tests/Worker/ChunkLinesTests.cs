using System.Text;
using System.Text.Json;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.Worker;
using MapReduce.Storage.Blobs;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Worker;

/// <summary>A bad line past a document's first chunk is named by its line in the document, counted from the earlier chunks.</summary>
public sealed class ChunkLinesTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly LocalBlobStore _store;
    private readonly DirectBlobClient _blobs;

    public ChunkLinesTests()
    {
        _store = new LocalBlobStore(_folder.File("store"));
        _blobs = new DirectBlobClient(_store, _ => { });
    }

    public void Dispose()
    {
        _store.Dispose();
        _folder.Dispose();
    }

    [Theory]
    [InlineData("datasets/data-1/000003-000002", 2, 0, "datasets/data-1/000003-000000")]
    [InlineData("datasets/data-1/000003-000002.csv", 2, 1, "datasets/data-1/000003-000001.csv")]
    [InlineData("datasets/data-000002-1/000002-000002", 2, 0, "datasets/data-000002-1/000002-000000")]
    [InlineData("no-chunk-number", 2, 0, null)]
    public void A_chunks_key_gives_the_keys_of_its_documents_other_chunks(string key, int index, int other, string? expected) =>
        Assert.Equal(expected, ChunkLines.KeyOf(key, index, other));

    [Fact]
    public async Task Lines_before_a_chunk_are_the_line_ends_of_the_documents_earlier_chunks()
    {
        var key = BlobKeys.Chunk("data-x", 4, 0);
        // Three chunks cut at line ends, as uploads cut them: 3 lines, then 2 (one with a CRLF), then the rest.
        await _blobs.PutAsync(BlobKeys.Chunk("data-x", 4, 0), Encoding.UTF8.GetBytes("a\nb\nc\n"));
        await _blobs.PutAsync(BlobKeys.Chunk("data-x", 4, 1), Encoding.UTF8.GetBytes("dd\r\neé\n"));
        await _blobs.PutAsync(BlobKeys.Chunk("data-x", 4, 2), Encoding.UTF8.GetBytes("f\ng"));

        Assert.Equal(0, await ChunkLines.CountBeforeAsync(_blobs, new MapChunk("a.txt", 0, key), default));
        Assert.Equal(3, await ChunkLines.CountBeforeAsync(_blobs, new MapChunk("a.txt", 1, BlobKeys.Chunk("data-x", 4, 1)), default));
        Assert.Equal(5, await ChunkLines.CountBeforeAsync(_blobs, new MapChunk("a.txt", 2, BlobKeys.Chunk("data-x", 4, 2)), default));
    }

    [Fact]
    public void A_line_is_named_in_its_document_when_the_lines_before_were_counted()
    {
        var chunk = new MapChunk("a.txt", 2, BlobKeys.Chunk("data-x", 4, 2));
        Assert.Equal("document 'a.txt', line 12", ChunkLines.Line(chunk, 7, 5).Describe());
        Assert.Equal("document 'a.txt', chunk 2, line 7 of the chunk", ChunkLines.Line(chunk, 7, null).Describe());
        Assert.Equal("document 'a.txt', line 7", ChunkLines.Line(new MapChunk("a.txt", 0, BlobKeys.Chunk("data-x", 4, 0)), 7, 0).Describe());
    }

    [Fact]
    public void The_document_line_is_not_part_of_a_lines_identity_and_old_events_read_without_it()
    {
        // A suspect journaled by an older build (no document line) is the same line as the one a new attempt names.
        var old = new InputLine("a.txt", 2, 7);
        var named = old with { DocumentLine = 12 };
        Assert.Equal(old, named);
        Assert.Equal(old.GetHashCode(), named.GetHashCode());
        Assert.NotEqual(old, new InputLine("a.txt", 2, 8));

        var back = JsonSerializer.Deserialize<InputLine>("""{"DocId":"a.txt","ChunkIndex":2,"Line":7}""")!;
        Assert.Null(back.DocumentLine);
        var roundTrip = JsonSerializer.Deserialize<InputLine>(JsonSerializer.Serialize(named))!;
        Assert.Equal(12, roundTrip.DocumentLine);
    }
}
