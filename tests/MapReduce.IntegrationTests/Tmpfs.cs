using System.Diagnostics;

namespace MapReduce.IntegrationTests;

/// <summary>
/// A small tmpfs mounted on a folder (needs root), to fill a disk without filling the machine's;
/// unmounted on dispose. <see cref="Unavailable"/> says why none can be mounted here.
/// </summary>
public sealed class Tmpfs : IDisposable
{
    private Tmpfs(string folder) => Folder = folder;

    public string Folder { get; }

    /// <summary>Null when a tmpfs can be mounted here; else why not (one line).</summary>
    public static string? Unavailable { get; } = Probe();

    /// <summary>Mounts a tmpfs of <paramref name="size"/> (as mount's <c>size=</c> takes it: 2m) on the folder, creating it.</summary>
    public static Tmpfs Mount(string folder, string size)
    {
        Directory.CreateDirectory(folder);
        if (Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", folder) is { } failed)
            throw new InvalidOperationException($"mount -t tmpfs on {folder} failed: {failed}");
        return new Tmpfs(folder);
    }

    public long Free => new DriveInfo(Folder).AvailableFreeSpace;

    /// <summary>Writes a file of zeros (real pages, not a sparse file) until only about <paramref name="leave"/> bytes are free.</summary>
    public string FillLeaving(long leave, string name = "filler")
    {
        var path = Path.Combine(Folder, name);
        var left = Free - leave;
        var zeros = new byte[4096];
        using var file = new FileStream(path, FileMode.Append, FileAccess.Write);
        for (; left >= zeros.Length; left -= zeros.Length) file.Write(zeros);
        return path;
    }

    public void Dispose() => Run("umount", "-l", Folder);

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "tmpfs mounts need Linux";
        if (Environment.UserName != "root") return "mounting a tmpfs needs root";
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", "tmpfs-probe-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            if (Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", folder) is { } failed) return $"mount -t tmpfs failed: {failed}";
            Run("umount", folder);
            return null;
        }
        finally
        {
            try { Directory.Delete(folder); } catch (IOException) { }
        }
    }

    /// <summary>Null on success; else the program's error output (or why it did not run).</summary>
    private static string? Run(string program, params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? null : error.Trim();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return e.Message;
        }
    }
}
