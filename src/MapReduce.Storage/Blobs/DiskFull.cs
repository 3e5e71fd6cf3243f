namespace MapReduce.Storage.Blobs;

/// <summary>
/// Whether a write failed because its file system has no space left (ENOSPC), and how much space a
/// folder's file system has. .NET reports ENOSPC on Linux and macOS as an <see cref="IOException"/>
/// whose HResult is the raw errno, 28; on Windows as ERROR_DISK_FULL or ERROR_HANDLE_DISK_FULL.
/// </summary>
public static class DiskFull
{
    /// <summary>ENOSPC on Linux and macOS.</summary>
    public const int Enospc = 28;

    private const int WindowsDiskFull = unchecked((int)0x80070070);
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027);

    /// <summary>Whether <paramref name="e"/>, or an exception inside it, is a write refused for want of space.</summary>
    public static bool Is(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is IOException { HResult: Enospc or WindowsDiskFull or WindowsHandleDiskFull }) return true;
            if (e is AggregateException { InnerExceptions: var all } && all.Any(Is)) return true;
        }
        return false;
    }

    /// <summary>Bytes free to this process on the file system that holds <paramref name="folder"/>; null when it cannot be told.</summary>
    public static long? FreeBytes(string folder)
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }
}
