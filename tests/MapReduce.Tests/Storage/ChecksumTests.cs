using System.Text;
using MapReduce.Storage.Blobs;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Storage;

/// <summary>
/// Blob checksums: the stream that checks a blob as it is read, and the kvstore folder's sidecar
/// files. Every byte of a small blob flipped in turn is caught, and so is a blob cut short, by a
/// reader that reads to the end, one that stops at the length, and one that reads asynchronously.
/// </summary>
public sealed class ChecksumTests : IDisposable
{
    private static readonly byte[] Blob = Encoding.UTF8.GetBytes("the quick brown fox\tjumps over\nthe lazy dog 0123456789\n");

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static ChecksumReadStream Reading(byte[] stored, byte[] original) =>
        new(new MemoryStream(stored), BlobChecksum.Of(original), "data/d/000000-000000");

    [Fact]
    public void The_checksum_round_trips_as_text_and_an_unknown_one_is_none()
    {
        var checksum = BlobChecksum.Of(Blob);
        Assert.Equal(BlobChecksum.XxHash3Name, checksum.Algorithm);
        Assert.Equal(Blob.Length, checksum.Length);
        Assert.Equal(16, checksum.Digest.Length);
        Assert.Equal(checksum, BlobChecksum.Parse(checksum.ToString()));
        Assert.Null(BlobChecksum.Parse("md5 abc 3"));
        Assert.Null(BlobChecksum.Parse("xxh3 abc"));
        Assert.Null(BlobChecksum.Parse(null));
    }

    [Fact]
    public void Every_byte_position_flipped_is_caught_by_a_reader_that_reads_to_the_end_or_stops_at_the_length()
    {
        for (var i = 0; i < Blob.Length; i++)
        {
            var stored = (byte[])Blob.Clone();
            stored[i] ^= 0x01;
            var toEnd = Assert.Throws<BlobCorruptException>(() => Reading(stored, Blob).CopyTo(Stream.Null));
            Assert.StartsWith("blob data/d/000000-000000 is corrupt: checksum mismatch (xxh3 ", toEnd.Message);
            Assert.Equal("data/d/000000-000000", toEnd.Key);
            // A reader that asks for exactly the length never reads the end: the read of the last byte checks.
            Assert.Throws<BlobCorruptException>(() => Reading(stored, Blob).ReadExactly(new byte[Blob.Length]));
        }
        using var whole = Reading(Blob, Blob);
        var copy = new MemoryStream();
        whole.CopyTo(copy);
        Assert.Equal(Blob, copy.ToArray());
    }

    [Fact]
    public async Task Every_byte_position_flipped_is_caught_reading_asynchronously_in_small_pieces()
    {
        for (var i = 0; i < Blob.Length; i++)
        {
            var stored = (byte[])Blob.Clone();
            stored[i] ^= 0x80;
            await Assert.ThrowsAsync<BlobCorruptException>(async () =>
            {
                await using var stream = Reading(stored, Blob);
                var piece = new byte[7];
                while (await stream.ReadAsync(piece) > 0) { }
            });
        }
    }

    [Fact]
    public void A_blob_cut_short_is_caught_at_every_length()
    {
        for (var length = 0; length < Blob.Length; length++)
        {
            var e = Assert.Throws<BlobCorruptException>(() => Reading(Blob[..length], Blob).CopyTo(Stream.Null));
            Assert.Equal($"blob data/d/000000-000000 is corrupt: it ended after {length} of its {Blob.Length} bytes", e.Message);
        }
    }

    [Fact]
    public void An_empty_blob_is_checked_too()
    {
        using var empty = Reading([], []);
        Assert.Equal(0, empty.Read(new byte[4]));
        Assert.Throws<BlobCorruptException>(() => Reading([1], []).ReadExactly(new byte[1]));
    }

    [Fact]
    public async Task The_kvstore_folder_keeps_a_checksum_beside_each_blob_and_every_read_checks_it()
    {
        using var store = new LocalBlobStore(_folder.File("kvstore"));
        const string key = "jobs/job-1/map/m00000.1/p00000";
        store.Put(key, Blob);
        Assert.Equal(BlobChecksum.Of(Blob), store.ChecksumOf(key));
        Assert.Equal(Blob, store.ReadAll(key));

        var path = store.PathOf(key);
        for (var i = 0; i < Blob.Length; i++)
        {
            var stored = (byte[])Blob.Clone();
            stored[i] ^= 0x04;
            await File.WriteAllBytesAsync(path, stored);
            Assert.Throws<BlobCorruptException>(() => store.ReadAll(key));
            using (var sync = store.OpenRead(key)!) Assert.Throws<BlobCorruptException>(() => sync.CopyTo(Stream.Null));
            await using var blob = (await store.OpenReadAsync(key))!;
            await Assert.ThrowsAsync<BlobCorruptException>(() => blob.Content.CopyToAsync(Stream.Null));
        }
        // Cut short: found when it is opened, before a byte is read.
        await File.WriteAllBytesAsync(path, Blob[..^1]);
        var cut = await Assert.ThrowsAsync<BlobCorruptException>(() => store.OpenReadAsync(key));
        Assert.Equal($"blob {key} is corrupt: {Blob.Length - 1} bytes where {Blob.Length} were stored", cut.Message);
    }

    [Fact]
    public async Task A_blob_stored_before_checksums_is_read_unverified_and_deleting_blobs_deletes_their_checksums()
    {
        using var store = new LocalBlobStore(_folder.File("kvstore"));
        store.Put("jobs/job-1/map/m00000.1/p00000", Blob);
        await store.PutAsync("jobs/job-1/map/m00001.1/p00000", new MemoryStream(Blob), Blob.Length);
        store.Put("data/d/000000-000000", Blob);
        var checksums = Path.Combine(store.Root, "checksums");
        File.Delete(Path.Combine(checksums, "data", "d", "000000-000000"));
        Assert.Null(store.ChecksumOf("data/d/000000-000000"));
        Assert.Equal(Blob, store.ReadAll("data/d/000000-000000"));

        // The same bytes stored again (a retried upload) give an old blob its checksum.
        store.Put("data/d/000000-000000", Blob);
        Assert.Equal(BlobChecksum.Of(Blob), store.ChecksumOf("data/d/000000-000000"));

        Assert.Equal(2, store.DeleteFolder("jobs/job-1/map"));
        Assert.Equal((1, (long)Blob.Length), store.DeleteAll(["data/d/000000-000000"]));
        Assert.Empty(Directory.EnumerateFiles(checksums, "*", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.Root, "blobs"), "*", SearchOption.AllDirectories));
    }
}
