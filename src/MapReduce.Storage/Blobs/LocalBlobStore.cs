namespace MapReduce.Storage.Blobs;

/// <summary>
/// Blobs as files under one folder. Writes go to a temp file in the same file system and are
/// renamed into place, so a reader sees either nothing or the whole blob, never a partial one.
/// </summary>
public sealed class LocalBlobStore
{
    private readonly string _blobRoot;
    private readonly string _tempRoot;

    public LocalBlobStore(string root)
    {
        Root = Path.GetFullPath(root);
        _blobRoot = Path.Combine(Root, "blobs");
        _tempRoot = Path.Combine(Root, "incoming");
        Directory.CreateDirectory(_blobRoot);
        Directory.CreateDirectory(_tempRoot);
        // Temp files left by a crash are never valid blobs.
        foreach (var stale in Directory.EnumerateFiles(_tempRoot)) TryDelete(stale);
    }

    public string Root { get; }

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

    public long? LengthOf(string key)
    {
        var info = new FileInfo(PathOf(key));
        return info.Exists ? info.Length : null;
    }

    /// <summary>A fresh temp file path for a write that <see cref="Commit"/> will publish.</summary>
    public string NewTempPath() => Path.Combine(_tempRoot, Guid.NewGuid().ToString("N"));

    /// <summary>Publishes a fully written temp file under the key (replacing any old blob).</summary>
    public long Commit(string tempPath, string key)
    {
        var target = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var length = new FileInfo(tempPath).Length;
        File.Move(tempPath, target, overwrite: true);
        return length;
    }

    public void Abort(string tempPath) => TryDelete(tempPath);

    public long Put(string key, ReadOnlySpan<byte> data)
    {
        BlobKey.Validate(key);
        var temp = NewTempPath();
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                file.Write(data);
            return Commit(temp, key);
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
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                await data.CopyToAsync(file, ct);
            return Commit(temp, key);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public byte[]? ReadAll(string key)
    {
        var path = PathOf(key);
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    public Stream? OpenRead(string key)
    {
        var path = PathOf(key);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16);
        }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
    }

    public bool Delete(string key)
    {
        var path = PathOf(key);
        if (!File.Exists(path)) return false;
        File.Delete(path);
        return true;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
