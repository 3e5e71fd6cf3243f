using System.Text;
using MapReduce.Storage.Blobs;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Storage;

/// <summary>The body a blob store is handed: exactly its length, seekable over a file's byte range, never short.</summary>
public sealed class ExactLengthStreamTests
{
    [Fact]
    public void A_range_reads_its_bytes_and_rereads_them_after_a_seek_as_the_S3_signer_does()
    {
        using var source = new MemoryStream(Encoding.ASCII.GetBytes("0123456789"));
        source.Position = 3;
        using var range = new ExactLengthStream(source, 4);
        Assert.True(range.CanSeek);
        Assert.Equal("3456", new StreamReader(range).ReadToEnd());
        range.Position = 0;
        Assert.Equal("3456", new StreamReader(range).ReadToEnd());
        Assert.Equal(4, range.Length);
    }

    [Fact]
    public void A_source_that_ends_early_fails_and_the_local_store_publishes_nothing()
    {
        using var folder = new TempFolder();
        using var store = new LocalBlobStore(folder.File("kvstore"));
        var e = Assert.Throws<EndOfStreamException>(() =>
            store.PutAsync("data/d/1", new MemoryStream(new byte[5]), 8).GetAwaiter().GetResult());
        Assert.Equal("the source ended after 5 of 8 bytes", e.Message);
        Assert.False(store.Exists("data/d/1"));
        Assert.Empty(Directory.GetFiles(folder.File(Path.Combine("kvstore", "incoming"))));
    }
}
