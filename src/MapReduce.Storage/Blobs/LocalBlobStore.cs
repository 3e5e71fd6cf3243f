namespace MapReduce.Storage.Blobs;

/// <summary>
/// Blobs as files under one folder. Writes go to a temp file in the same file system and are
/// renamed into place, so a reader sees either nothing or the whole blob, never a partial one.
/// The kvstore owns the folder; another process on the same machine may attach to it
/// (<see cref="TryAttach"/>) and read and write blobs the same way, without the data channel.
/// Each blob's checksum (<see cref="BlobChecksum"/>, XxHash3 and length) is a sidecar file under
/// <c>checksums/</c> at the blob's own key, published before the blob and deleted with it; every
/// whole read checks it. A blob without one (stored by a build before checksums) is read unverified.
/// </summary>
public sealed class LocalBlobStore : IBlobStore, IDisposable
{
    /// <summary>The subfolder of <see cref="Root"/> that holds the blobs, at their keys.</summary>
    public const string BlobsFolder = "blobs";

    /// <summary>The subfolder of <see cref="Root"/> that holds each blob's checksum, at the blob's key.</summary>
    public const string ChecksumsFolder = "checksums";

    private const string IdFileName = "store-id";
    private const string OwnerLockFileName = "owner.lock";
    private readonly string _blobRoot;
    private readonly string _tempRoot;
    private readonly string _checksumRoot;
    private readonly FileStream? _ownerLock;

    /// <summary>
    /// Opens (or creates) the store as its owner: stale temp files are removed and a new
    /// <see cref="StoreId"/> is written. One owner at a time: while one holds the folder (an OS file
    /// lock, released when its process ends however it ends, or on <see cref="Dispose"/>), another
    /// gets a <see cref="StoreInUseException"/>, before it touches anything; it would delete the
    /// owner's half-written files and replace its id.
    /// </summary>
    public LocalBlobStore(string root) : this(root, owner: true, storeId: Guid.NewGuid().ToString("N")) { }

    private LocalBlobStore(string root, bool owner, string storeId)
    {
        Root = Path.GetFullPath(root);
        StoreId = storeId;
        _blobRoot = Path.Combine(Root, BlobsFolder);
        _tempRoot = Path.Combine(Root, "incoming");
        _checksumRoot = Path.Combine(Root, ChecksumsFolder);
        if (!owner) return;
        Directory.CreateDirectory(Root);
        _ownerLock = FileLock.TryTake(Path.Combine(Root, OwnerLockFileName))
            ?? throw new StoreInUseException($"the kvstore folder {Root} is in use by another kvstore process");
        Directory.CreateDirectory(_blobRoot);
        Directory.CreateDirectory(_tempRoot);
        Directory.CreateDirectory(_checksumRoot);
        // Temp files left by a crash are never valid blobs.
        foreach (var stale in Directory.EnumerateFiles(_tempRoot)) TryDelete(stale);
        var idTemp = NewTempPath();
        File.WriteAllText(idTemp, storeId);
        File.Move(idTemp, Path.Combine(Root, IdFileName), overwrite: true);
    }

    public string Root { get; }

    /// <summary>Names this opening of the store: a process that reads it from <see cref="Root"/> sees the same folder as the owner.</summary>
    public string StoreId { get; }

    /// <summary>
    /// The store whose owner advertised <paramref name="root"/> and <paramref name="storeId"/>, when
    /// this process sees that very folder (same machine or shared file system, readable); otherwise null.
    /// </summary>
    public static LocalBlobStore? TryAttach(string root, string storeId)
    {
        try
        {
            if (!Path.IsPathFullyQualified(root)) return null;
            var id = File.ReadAllText(Path.Combine(root, IdFileName));
            return id == storeId ? new LocalBlobStore(root, owner: false, storeId) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A store folder left by a kvstore that is not running, to read (its id is whatever it last wrote); null when there is none.</summary>
    public static LocalBlobStore? OpenStopped(string root)
    {
        try { return TryAttach(Path.GetFullPath(root), File.ReadAllText(Path.Combine(root, IdFileName))); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    public string PathOf(string key)
    {
        BlobKey.Validate(key);
        var full = Path.GetFullPath(Path.Combine(_blobRoot, key));
        // Defence in depth: the key grammar already forbids escaping the root.
        if (!full.StartsWith(_blobRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidBlobKeyException($"blob key '{key}' escapes the store");
        return full;
    }

    public bool Exists(string key) => File.Exists(PathOf(key));

    /// <summary>Where the blob's checksum is kept: the same key under <c>checksums/</c>.</summary>
    private string ChecksumPathOf(string key) => Path.Combine(_checksumRoot, Path.GetRelativePath(_blobRoot, PathOf(key)));

    /// <summary>The checksum stored with the blob, or null when it has none (stored before checksums, or no such blob).</summary>
    public BlobChecksum? ChecksumOf(string key)
    {
        try { return BlobChecksum.Parse(File.ReadAllText(ChecksumPathOf(key))); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
    }

    /// <summary>Writes the checksum's sidecar file (temp and rename, so it is whole or absent).</summary>
    private void WriteChecksum(string key, BlobChecksum checksum)
    {
        var path = ChecksumPathOf(key);
        var temp = NewTempPath();
        try
        {
            File.WriteAllText(temp, checksum.ToString());
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    /// <summary>
    /// <paramref name="file"/> (the blob at <paramref name="key"/>, open from its start) as it is to
    /// be read: through its checksum when it has one; its length against the stored one at once.
    /// </summary>
    private Stream Checked(string key, FileStream file)
    {
        if (ChecksumOf(key) is not { } checksum) return file;
        if (file.Length != checksum.Length)
        {
            file.Dispose();
            throw new BlobCorruptException(key, $"{new FileInfo(PathOf(key)).Length} bytes where {checksum.Length} were stored");
        }
        return new ChecksumReadStream(file, checksum, key);
    }

    public long? LengthOf(string key)
    {
        var info = new FileInfo(PathOf(key));
        return info.Exists ? info.Length : null;
    }

    /// <summary>A fresh temp file path for a write that <see cref="Commit"/> will publish.</summary>
    public string NewTempPath() => Path.Combine(_tempRoot, Guid.NewGuid().ToString("N"));

    /// <summary>
    /// Publishes a fully written temp file under the key. Blobs are written once: a key that
    /// exists keeps its bytes, and a second write of the same bytes (a retried upload) is accepted
    /// without change, while other bytes are refused with <see cref="BlobConflictException"/>. A
    /// script under <c>code/</c> must hash to its id (<see cref="CodeBlob"/>). A key in the folder of
    /// a job that has ended is refused with <see cref="JobEndedException"/>, and what this write
    /// published is deleted again (<see cref="JobFence"/>). The temp file is gone afterwards in every case.
    /// </summary>
    /// <param name="checksum">The checksum of the temp file's bytes when its writer hashed them on the way; null: they are read once more to hash them.</param>
    public long Commit(string tempPath, string key, BlobChecksum? checksum = null)
    {
        var marker = JobFence.MarkerOf(key);
        bool published;
        long length;
        try
        {
            (length, published) = Publish(tempPath, key, checksum);
        }
        catch (IOException e) when (e is not BlobConflictException && marker is not null && Exists(marker))
        {
            // The job's clean-up deleted the folder under this write. Publish kept no file of it; the
            // folders it made go too (not a blob that was there before: a part the job keeps).
            if (!Exists(key)) DeleteAll([key]);
            throw new JobEndedException(JobFence.JobOf(key)!, key);
        }
        AfterPublish?.Invoke(key);
        // The fence: published first, then checked (see JobFence for why that leaves nothing).
        if (marker is not null && Exists(marker))
        {
            // Only what this write published: a blob that was there already is its own writer's (or the clean-up's) to delete.
            if (published) DeleteAll([key]);
            throw new JobEndedException(JobFence.JobOf(key)!, key);
        }
        return length;
    }

    /// <summary>Tests only: runs between a write's publication and its look for the job's end marker, to put a clean-up's steps there.</summary>
    internal Action<string>? AfterPublish { get; set; }

    /// <summary>The publication <see cref="Commit"/> makes: the blob's length, and whether this call put it there (false: the same bytes were there already).</summary>
    private (long Length, bool Published) Publish(string tempPath, string key, BlobChecksum? checksum)
    {
        var target = PathOf(key);
        var length = new FileInfo(tempPath).Length;
        try
        {
            if (CodeBlob.IdInKey(key) is not null && CodeBlob.Problem(key, File.ReadAllBytes(tempPath)) is { } problem)
                throw new BlobConflictException(problem);
            checksum ??= BlobChecksum.OfFile(tempPath);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            // The checksum first: a blob that is visible has its checksum (once a key exists it is only ever rewritten with the same bytes).
            if (!File.Exists(target)) WriteChecksum(key, checksum);
            try
            {
                File.Move(tempPath, target, overwrite: false);
                return (length, true);
            }
            catch (IOException) when (File.Exists(target))
            {
                if (SameBytes(tempPath, target))
                {
                    if (ChecksumOf(key) != checksum) WriteChecksum(key, checksum); // a blob from before checksums gets one
                    return (length, false);
                }
                // Another writer won a race for the key with other bytes: its checksum, not this one.
                WriteChecksum(key, BlobChecksum.OfFile(target));
                throw new BlobConflictException($"blob {key} already exists with other bytes; a blob is written once");
            }
            catch (IOException) when (!File.Exists(target))
            {
                TryDelete(ChecksumPathOf(key)); // nothing was published (a full disk, say): no checksum is left either
                throw;
            }
        }
        finally
        {
            TryDelete(tempPath);
        }
    }

    private static bool SameBytes(string a, string b)
    {
        using var first = new FileStream(a, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        using var second = new FileStream(b, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
        if (first.Length != second.Length) return false;
        Span<byte> x = stackalloc byte[8192], y = stackalloc byte[8192];
        int read;
        while ((read = first.ReadAtLeast(x, x.Length, throwOnEndOfStream: false)) > 0)
            if (second.ReadAtLeast(y[..read], read, throwOnEndOfStream: false) != read || !x[..read].SequenceEqual(y[..read])) return false;
        return true;
    }

    public void Abort(string tempPath) => TryDelete(tempPath);

    /// <summary>
    /// Publishes a file its writer gives up (a map task's run, a reduce's part): renamed into the
    /// store when it is on the same file system, so its bytes are not copied; else copied.
    /// </summary>
    public long PutOwnedFile(string key, string path)
    {
        BlobKey.Validate(key);
        var temp = NewTempPath();
        try
        {
            File.Move(path, temp);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        return Commit(temp, key);
    }

    /// <summary>
    /// Deletes temp files nobody wrote to for <paramref name="idle"/>: their writer died (a node
    /// writing directly that was killed, say). A live writer touches its file with every write.
    /// Returns how many it deleted.
    /// </summary>
    public int SweepAbandoned(TimeSpan idle)
    {
        var cutoff = DateTime.UtcNow - idle;
        var deleted = 0;
        foreach (var temp in new DirectoryInfo(_tempRoot).EnumerateFiles())
        {
            if (temp.LastWriteTimeUtc >= cutoff) continue;
            TryDelete(temp.FullName);
            deleted++;
        }
        return deleted;
    }

    public long Put(string key, ReadOnlySpan<byte> data)
    {
        BlobKey.Validate(key);
        var temp = NewTempPath();
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                file.Write(data);
            return Commit(temp, key, BlobChecksum.Of(data));
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public async Task<long> PutAsync(string key, Stream data, CancellationToken ct = default)
    {
        BlobKey.Validate(key);
        var temp = NewTempPath();
        try
        {
            BlobChecksum checksum;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                checksum = await CopyHashingAsync(data, file, ct).ConfigureAwait(false);
            return Commit(temp, key, checksum);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Streams exactly <paramref name="length"/> bytes into a temp file, in 1 MiB pieces through a
    /// pooled buffer (few large disk writes, no 1 MiB FileStream buffer per call), and publishes it.
    /// </summary>
    public async Task<long> PutAsync(string key, Stream data, long length, CancellationToken ct = default)
    {
        BlobKey.Validate(key);
        var temp = NewTempPath();
        try
        {
            BlobChecksum checksum;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous))
                checksum = await CopyHashingAsync(new ExactLengthStream(data, length), file, ct).ConfigureAwait(false);
            return Commit(temp, key, checksum);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Copies in 1 MiB pieces through a pooled buffer (few large disk writes), hashing the bytes on the way.</summary>
    private static async Task<BlobChecksum> CopyHashingAsync(Stream source, Stream target, CancellationToken ct)
    {
        using var hasher = BlobHasher.For(BlobChecksum.XxHash3Name);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int read;
            while ((read = await source.ReadAtLeastAsync(buffer.AsMemory(0, 1 << 20), 1 << 20, throwOnEndOfStream: false, ct).ConfigureAwait(false)) > 0)
            {
                hasher.Append(buffer.AsSpan(0, read));
                await target.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            }
            return hasher.Finish();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public string Location => $"the folder {Root}";

    public Task<bool> ExistsAsync(string key, CancellationToken ct = default) => Task.FromResult(Exists(key));

    public Task<StoredBlob?> OpenReadAsync(string key, CancellationToken ct = default) => OpenReadAsync(key, 0, null, ct);

    public Task<StoredBlob?> OpenReadAsync(string key, long offset, long? length, CancellationToken ct = default)
    {
        try
        {
            // Opened before the length is read: a blob replaced meanwhile is still read whole (the old inode).
            var file = new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
            var (start, count) = BlobRange.Clamp(offset, length, file.Length);
            if (start == 0 && count == file.Length) return Task.FromResult<StoredBlob?>(new StoredBlob(Checked(key, file), file.Length));
            file.Position = start;
            return Task.FromResult<StoredBlob?>(new StoredBlob(new ExactLengthStream(file, count, ownsSource: true), count));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<StoredBlob?>(null);
        }
    }

    public Task<(int Blobs, long Bytes)> DeleteAllAsync(IReadOnlyCollection<string> keys, CancellationToken ct = default) => Task.FromResult(DeleteAll(keys));

    public Task<int> DeleteFolderAsync(string prefix, CancellationToken ct = default) => Task.FromResult(DeleteFolder(prefix));

    public Task<int> SweepAbandonedAsync(TimeSpan idle, CancellationToken ct = default) => Task.FromResult(SweepAbandoned(idle));

    /// <summary>
    /// Stores <paramref name="length"/> bytes of <paramref name="sourceFile"/> from
    /// <paramref name="offset"/> (a whole file is copied by the kernel). Throws
    /// <see cref="SourceChangedException"/> when the file no longer has those bytes.
    /// </summary>
    public long PutFileRange(string key, string sourceFile, long offset, long length)
    {
        BlobKey.Validate(key);
        var temp = NewTempPath();
        try
        {
            if (offset == 0 && new FileInfo(sourceFile).Length == length) File.Copy(sourceFile, temp);
            else CopyRange(sourceFile, offset, length, temp);
            var copied = new FileInfo(temp).Length;
            if (copied != length) throw new SourceChangedException(sourceFile, offset, length, copied);
            return Commit(temp, key);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void CopyRange(string sourceFile, long offset, long length, string target)
    {
        using var source = new FileStream(sourceFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        using var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            source.Position = offset;
            for (var left = length; left > 0;)
            {
                var read = source.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (read == 0) break; // the file got shorter: the caller sees too few bytes
                file.Write(buffer, 0, read);
                left -= read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The whole blob, checked against its checksum; null when there is no such blob.</summary>
    public byte[]? ReadAll(string key)
    {
        var path = PathOf(key);
        if (!File.Exists(path)) return null;
        var bytes = File.ReadAllBytes(path);
        ChecksumOf(key)?.Check(BlobChecksum.Of(bytes), key);
        return bytes;
    }

    /// <summary>The whole blob to read, through its checksum (<see cref="ChecksumReadStream"/>); null when there is no such blob.</summary>
    public Stream? OpenRead(string key)
    {
        var path = PathOf(key);
        try
        {
            return Checked(key, new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16));
        }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
    }

    public bool Delete(string key)
    {
        var path = PathOf(key);
        TryDelete(ChecksumPathOf(key));
        if (!File.Exists(path)) return false;
        File.Delete(path);
        return true;
    }

    /// <summary>
    /// Deletes these blobs (a missing one is skipped), then the folders they leave empty. Returns
    /// how many blobs it deleted and their bytes.
    /// </summary>
    public (int Blobs, long Bytes) DeleteAll(IEnumerable<string> keys)
    {
        var (blobs, bytes) = (0, 0L);
        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            var file = new FileInfo(PathOf(key));
            if (file.Exists)
            {
                (blobs, bytes) = (blobs + 1, bytes + file.Length);
                file.Delete();
            }
            TryDelete(ChecksumPathOf(key));
            folders.Add(file.DirectoryName!);
        }
        foreach (var folder in folders.OrderByDescending(f => f.Length))
        {
            PruneEmpty(folder, _blobRoot);
            PruneEmpty(Path.Combine(_checksumRoot, Path.GetRelativePath(_blobRoot, folder)), _checksumRoot);
        }
        return (blobs, bytes);
    }

    /// <summary>Deletes every blob under a key prefix ("jobs/job-1/map"), then the folders that leaves empty; returns how many blobs.</summary>
    public int DeleteFolder(string prefix)
    {
        var path = PathOf(prefix);
        var checksums = ChecksumPathOf(prefix);
        // The blobs before their checksums: a checksum left a moment without its blob is nothing,
        // a blob without its checksum would be read unverified; and the checksum of a blob that
        // lands meanwhile goes with the others.
        var blobs = 0;
        if (Directory.Exists(path))
        {
            blobs = DeleteTree(path);
            PruneEmpty(Path.GetDirectoryName(path)!, _blobRoot);
        }
        if (Directory.Exists(checksums))
        {
            DeleteTree(checksums);
            PruneEmpty(Path.GetDirectoryName(checksums)!, _checksumRoot);
        }
        return blobs;
    }

    /// <summary>How many times <see cref="DeleteTree"/> goes over a folder that blobs keep landing in.</summary>
    private const int DeletePasses = 5;

    /// <summary>
    /// Deletes a folder and all in it; returns how many files it deleted. A blob may land in it
    /// meanwhile (an attempt that stores its output after its job ended: the fence takes it back
    /// too, JobFence), and a folder that is not empty then is no error: the next pass deletes what
    /// came. (Directory.Delete's own recursion gave up there, leaving the rest of the job's
    /// leftovers behind.)
    /// </summary>
    private int DeleteTree(string path)
    {
        var deleted = 0;
        for (var pass = 1; ; pass++)
        {
            try
            {
                foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).ToList())
                {
                    File.Delete(file);
                    deleted++;
                }
                BeforeFoldersGo?.Invoke(path);
                foreach (var folder in Directory.EnumerateDirectories(path, "*", SearchOption.AllDirectories).OrderByDescending(f => f.Length).ToList())
                    Directory.Delete(folder);
                Directory.Delete(path);
                return deleted;
            }
            catch (DirectoryNotFoundException) when (!Directory.Exists(path))
            {
                return deleted;
            }
            catch (IOException) when (pass < DeletePasses && Directory.Exists(path))
            {
                // A folder was not empty: something landed in it during this pass.
            }
        }
    }

    /// <summary>Tests: runs in <see cref="DeleteTree"/> between deleting a pass's files and its folders (where a late blob lands in a race).</summary>
    internal Action<string>? BeforeFoldersGo { get; set; }

    /// <summary>
    /// Deletes <paramref name="folder"/> and its parents while they are empty, but never a top-level
    /// folder ("data", "jobs", "code"): writers create those once and expect them to stay.
    /// </summary>
    private static void PruneEmpty(string folder, string root)
    {
        for (var dir = folder; Path.GetDirectoryName(dir) is { } parent && parent.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal); dir = parent)
        {
            try { Directory.Delete(dir); } // only an empty folder
            catch (DirectoryNotFoundException) { }
            catch (IOException) { return; } // not empty: a blob is still there
        }
    }

    /// <summary>Gives up ownership (a process that ends gives it up anyway).</summary>
    public void Dispose() => _ownerLock?.Dispose();

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A file copied into the store no longer had the bytes it had when it was listed.</summary>
public sealed class SourceChangedException(string file, long offset, long expected, long found)
    : IOException($"'{file}' changed while it was stored: expected {expected} bytes from offset {offset}, found {found}");

/// <summary>A write that would change an existing blob, or store a script under another script's id.</summary>
public sealed class BlobConflictException(string message) : IOException(message);

/// <summary>Another process owns the store's folder.</summary>
public sealed class StoreInUseException(string message) : IOException(message);
