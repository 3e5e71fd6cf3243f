namespace MapReduce.Storage;

/// <summary>
/// An exclusive lock on a file, held while the returned stream is open. .NET takes it with flock
/// for FileShare.None on Unix, so the OS releases it when the holding process ends, however it ends.
/// </summary>
public static class FileLock
{
    /// <summary>The held lock, or null when another process holds it.</summary>
    public static FileStream? TryTake(string path)
    {
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
