using MapReduce.Storage.Blobs;

namespace MapReduce.Actors.Worker;

/// <summary>
/// Whether a worker's scratch folder has room for another attempt. The worker offers no slot while
/// its file system has less than <c>mapreduce.worker.min-free-scratch</c> free, and for
/// <c>mapreduce.worker.disk-full-pause</c> after an attempt failed there for want of space (the
/// failed attempt's files are gone by then, so the free space alone would hand the task straight back).
/// </summary>
/// <param name="freeBytes">Bytes free on the folder's file system (null: unknown, taken as enough).</param>
public sealed class ScratchSpace(string folder, long minFreeBytes, TimeSpan pauseAfterFull, Func<string, long?>? freeBytes = null)
{
    private readonly Func<string, long?> _freeBytes = freeBytes ?? DiskFull.FreeBytes;
    private DateTime? _fullAt;

    /// <summary>An attempt failed on this worker's full disk at <paramref name="now"/>.</summary>
    public void Filled(DateTime now) => _fullAt = now;

    /// <summary>Why the worker offers no slot at <paramref name="now"/> (one line for the status), or null when it has room.</summary>
    public string? Shortage(DateTime now)
    {
        var free = _freeBytes(folder);
        if (free is { } f && f < minFreeBytes)
            return $"scratch disk full ({Mebibytes(f)} free in {folder}, under the {Mebibytes(minFreeBytes)} of mapreduce.worker.min-free-scratch), not offering slots";
        if (_fullAt is { } at && now - at < pauseAfterFull)
            return $"scratch disk full (an attempt ran out of space in {folder} at {at:HH:mm:ss} UTC), not offering slots until {at + pauseAfterFull:HH:mm:ss} UTC";
        _fullAt = null;
        return null;
    }

    private static string Mebibytes(long bytes) => $"{bytes / (1024.0 * 1024):0.##} MiB";
}
