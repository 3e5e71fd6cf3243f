using MapReduce.Storage.Blobs;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Storage;

/// <summary>What a write refused for want of space looks like in .NET, and that the local store keeps nothing of such a write.</summary>
public sealed class DiskFullTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_write_to_a_full_device_is_recognised_as_such()
    {
        // /dev/full answers every write with ENOSPC: the real exception .NET throws, without filling a disk.
        if (!File.Exists("/dev/full")) return; // not on Linux: the Windows codes are checked below
        var e = Assert.ThrowsAny<IOException>(() =>
        {
            using var full = new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
            full.Write(new byte[4096]);
        });
        Assert.Equal(DiskFull.Enospc, e.HResult);
        Assert.True(DiskFull.Is(e));
    }

    public static TheoryData<string, Exception, bool> Exceptions() => new()
    {
        { "ENOSPC (Linux, macOS)", new IOException("No space left on device", 28), true },
        { "ERROR_DISK_FULL (Windows)", new IOException("There is not enough space on the disk.", unchecked((int)0x80070070)), true },
        { "ERROR_HANDLE_DISK_FULL (Windows)", new IOException("The disk is full.", unchecked((int)0x80070027)), true },
        { "inside another exception", new InvalidOperationException("spill failed", new IOException("No space left on device", 28)), true },
        { "one of several", new AggregateException(new TimeoutException(), new IOException("No space left on device", 28)), true },
        { "another I/O error (EIO)", new IOException("Input/output error", 5), false },
        { "an I/O error without a code", new IOException("broken"), false },
        { "not I/O at all", new InvalidOperationException("no"), false },
    };

    [Theory]
    [MemberData(nameof(Exceptions))]
    public void Only_a_full_disk_counts_as_one(string what, Exception e, bool full)
    {
        Assert.False(string.IsNullOrEmpty(what));
        Assert.Equal(full, DiskFull.Is(e));
    }

    [Fact]
    public void The_free_space_of_a_folder_is_its_file_systems()
    {
        var free = DiskFull.FreeBytes(_folder.Path);
        Assert.NotNull(free);
        Assert.InRange(free!.Value, 1, new DriveInfo(Path.GetPathRoot(Path.GetTempPath())!).TotalSize);
    }

    [Fact]
    public async Task A_put_that_runs_out_of_space_keeps_nothing_and_a_later_put_of_the_same_key_is_exact()
    {
        using var store = new LocalBlobStore(_folder.File("kvstore"));
        var data = new byte[3 << 20];
        new Random(11).NextBytes(data);

        // 1 MiB reached the temp file before the disk was full: no blob, no temp file.
        var e = await Assert.ThrowsAnyAsync<IOException>(() => store.PutAsync("jobs/j/map/m00000.1/p00000", new OutOfSpaceStream(new MemoryStream(data), 1 << 20), data.Length));
        Assert.True(DiskFull.Is(e));
        Assert.False(store.Exists("jobs/j/map/m00000.1/p00000"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "incoming")));

        var e2 = await Assert.ThrowsAnyAsync<IOException>(() => store.PutAsync("jobs/j/map/m00000.1/p00001", new OutOfSpaceStream(new MemoryStream(data), 100)));
        Assert.True(DiskFull.Is(e2));
        Assert.False(store.Exists("jobs/j/map/m00000.1/p00001"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "incoming")));

        // Space again: the same key is written whole (a blob is written once, so a partial one would have been refused).
        Assert.Equal(data.Length, await store.PutAsync("jobs/j/map/m00000.1/p00000", new MemoryStream(data), data.Length));
        Assert.Equal(data, store.ReadAll("jobs/j/map/m00000.1/p00000"));
    }
}
