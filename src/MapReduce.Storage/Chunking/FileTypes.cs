using Mono.Unix.Native;

namespace MapReduce.Storage.Chunking;

public enum FileType { Missing, Regular, Directory, SymbolicLink, Fifo, Socket, CharacterDevice, BlockDevice }

/// <summary>
/// What a path is. .NET reports a FIFO, a socket or a device as an ordinary file (and opening a
/// FIFO to read it waits for a writer forever), so on Unix the type comes from lstat/stat (Mono.Unix).
/// </summary>
public static class FileTypeProbe
{
    /// <param name="followLink">stat (what a link leads to) rather than lstat (the link itself).</param>
    public static FileType Of(string path, bool followLink) => Stat(path, followLink).Type;

    /// <summary>What a path is, its length and its last write time, from one stat call (100,000 files are listed in about a second).</summary>
    /// <param name="followLink">stat (what a link leads to) rather than lstat (the link itself).</param>
    public static FileStatus Stat(string path, bool followLink)
    {
        if (OperatingSystem.IsWindows()) return StatWindows(path, followLink);
        var result = followLink ? Syscall.stat(path, out var status) : Syscall.lstat(path, out status);
        if (result != 0) return FileStatus.Missing;
        var type = (status.st_mode & FilePermissions.S_IFMT) switch
        {
            FilePermissions.S_IFREG => FileType.Regular,
            FilePermissions.S_IFDIR => FileType.Directory,
            FilePermissions.S_IFLNK => FileType.SymbolicLink,
            FilePermissions.S_IFIFO => FileType.Fifo,
            FilePermissions.S_IFSOCK => FileType.Socket,
            FilePermissions.S_IFCHR => FileType.CharacterDevice,
            FilePermissions.S_IFBLK => FileType.BlockDevice,
            _ => FileType.Missing,
        };
        var written = DateTime.UnixEpoch.AddTicks(status.st_mtime * TimeSpan.TicksPerSecond + status.st_mtime_nsec / 100);
        return new FileStatus(type, status.st_size, written);
    }

    public static string Describe(FileType type) => type switch
    {
        FileType.Fifo => "FIFO (named pipe)",
        FileType.Socket => "socket",
        FileType.CharacterDevice => "character device",
        FileType.BlockDevice => "block device",
        FileType.SymbolicLink => "symbolic link",
        FileType.Directory => "folder",
        _ => "file",
    };

    private static FileStatus StatWindows(string path, bool followLink)
    {
        FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        if (!info.Exists) return FileStatus.Missing;
        if (!followLink && info.LinkTarget is not null) return new FileStatus(FileType.SymbolicLink, 0, info.LastWriteTimeUtc);
        return info is FileInfo file ? new FileStatus(FileType.Regular, file.Length, file.LastWriteTimeUtc) : new FileStatus(FileType.Directory, 0, info.LastWriteTimeUtc);
    }
}

/// <summary>What <see cref="FileTypeProbe.Stat"/> tells about a path.</summary>
public readonly record struct FileStatus(FileType Type, long Length, DateTime LastWriteUtc)
{
    public static readonly FileStatus Missing = new(FileType.Missing, 0, default);
}

/// <summary>Paths with every symbolic link resolved, as realpath(3) gives them, to tell where a link really leads.</summary>
public static class RealPath
{
    /// <summary>As Linux, which gives up after 40 links in one path (ELOOP).</summary>
    private const int MaxLinks = 40;

    /// <summary>
    /// <paramref name="fullPath"/> (absolute) with each link in it replaced by where it leads, and
    /// "." and ".." applied. Throws <see cref="IOException"/> for a path with more than 40 links (a
    /// loop of links). A part that does not exist is kept as it is.
    /// </summary>
    public static string Of(string fullPath)
    {
        if (OperatingSystem.IsWindows()) return Path.GetFullPath(fullPath);
        var pending = new Stack<string>(fullPath.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var resolved = new List<string>();
        var links = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".") continue;
            if (part == "..")
            {
                if (resolved.Count > 0) resolved.RemoveAt(resolved.Count - 1);
                continue;
            }
            var path = "/" + string.Join('/', resolved.Append(part));
            var target = FileTypeProbe.Of(path, followLink: false) == FileType.SymbolicLink ? new FileInfo(path).LinkTarget : null;
            if (target is null)
            {
                resolved.Add(part);
                continue;
            }
            if (++links > MaxLinks) throw new IOException($"more than {MaxLinks} symbolic links in a row (a loop of links)");
            if (target.StartsWith('/')) resolved.Clear();
            foreach (var next in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse()) pending.Push(next);
        }
        return "/" + string.Join('/', resolved);
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="folder"/> or below it (both real paths).</summary>
    public static bool IsInside(string path, string folder)
    {
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var trimmed = folder.TrimEnd('/', '\\');
        return string.Equals(path, folder, comparison) || path.StartsWith(trimmed + Path.DirectorySeparatorChar, comparison)
            || (trimmed.Length == 0 && path.StartsWith('/'));
    }
}
