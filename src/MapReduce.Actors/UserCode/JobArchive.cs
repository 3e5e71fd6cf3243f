using System.IO.Compression;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// A job project's build output as one blob: a zip of every file `dotnet publish` wrote (the job's
/// assembly, its .deps.json and the assemblies of the packages it references), entries sorted and
/// dated alike so the same build gives the same bytes, and so the same code id. The job's assembly
/// is the one named like the archive's only .deps.json. The SDK's own assembly is left out: workers
/// have theirs, which every job shares (<see cref="JobLoadContext"/>).
/// </summary>
public static class JobArchive
{
    /// <summary>The most bytes an archive may expand to, and the most files it may hold: a bound for what a worker writes to its disk.</summary>
    public const long MaxExpandedBytes = 1L << 30;
    public const int MaxEntries = 10_000;

    /// <summary>What a worker provides itself: never shipped, never loaded from an archive.</summary>
    public static readonly string SharedAssembly = typeof(MapReduce.Sdk.JobFunctions).Assembly.GetName().Name!;

    private static readonly DateTimeOffset EntryTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The archive of a publish folder; <see cref="JobArchiveException"/> when it holds no job assembly.</summary>
    public static byte[] Create(string folder)
    {
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(f => !IsShared(f))
            .Order(StringComparer.Ordinal)
            .ToList();
        MainAssembly(files); // refuses a folder without exactly one .deps.json, before anything is written
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var file in files)
            {
                var entry = zip.CreateEntry(file, CompressionLevel.Optimal);
                entry.LastWriteTime = EntryTime;
                using var target = entry.Open();
                using var source = File.OpenRead(Path.Combine(folder, file));
                source.CopyTo(target);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// Writes the archive's files into <paramref name="folder"/> (which must not exist), all or
    /// nothing: into a temporary folder beside it, renamed once complete. Refuses an entry that
    /// would land outside the folder, and archives past <see cref="MaxEntries"/> or <see cref="MaxExpandedBytes"/>.
    /// Returns the path of the job's assembly.
    /// </summary>
    public static string Extract(byte[] archive, string folder)
    {
        var temp = $"{folder}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var zip = new ZipArchive(new MemoryStream(archive, writable: false), ZipArchiveMode.Read))
            {
                if (zip.Entries.Count > MaxEntries) throw new JobArchiveException($"the job's archive holds {zip.Entries.Count} files; at most {MaxEntries} are allowed");
                var root = Path.GetFullPath(temp) + Path.DirectorySeparatorChar;
                long expanded = 0;
                foreach (var entry in zip.Entries)
                {
                    if (entry.FullName.EndsWith('/')) continue; // a folder
                    var target = Path.GetFullPath(Path.Combine(temp, entry.FullName));
                    if (!target.StartsWith(root, StringComparison.Ordinal) || entry.FullName.Contains('\\'))
                        throw new JobArchiveException($"the job's archive holds '{entry.FullName}', which is not a path inside it");
                    expanded += entry.Length;
                    if (expanded > MaxExpandedBytes) throw new JobArchiveException($"the job's archive expands past {MaxExpandedBytes >> 20} MiB");
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    using var source = entry.Open();
                    using var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write);
                    CopyAtMost(source, file, entry.Length); // an entry that inflates past its stated size is cut off as refused
                }
            }
            var main = MainAssembly(Directory.EnumerateFiles(temp, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(temp, f).Replace(Path.DirectorySeparatorChar, '/')).ToList());
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(folder))!);
            Directory.Move(temp, folder);
            return Path.Combine(folder, main);
        }
        catch (InvalidDataException e)
        {
            throw new JobArchiveException($"the job's archive is not a readable zip: {e.Message}");
        }
        finally
        {
            if (Directory.Exists(temp))
                try { Directory.Delete(temp, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>The job's assembly in a folder that holds its files: the one named like the only .deps.json at its top.</summary>
    public static string MainAssemblyIn(string folder) =>
        Path.Combine(folder, MainAssembly(Directory.EnumerateFiles(folder).Select(Path.GetFileName).ToList()!));

    private static string MainAssembly(IReadOnlyList<string> files)
    {
        var deps = files.Where(f => !f.Contains('/') && f.EndsWith(".deps.json", StringComparison.OrdinalIgnoreCase)).ToList();
        if (deps.Count != 1)
            throw new JobArchiveException(deps.Count == 0
                ? "the job's build output has no .deps.json, which names its assembly"
                : $"the job's build output has {deps.Count} .deps.json files ({string.Join(", ", deps)}); it must be one project's");
        var main = deps[0][..^".deps.json".Length] + ".dll";
        if (!files.Contains(main)) throw new JobArchiveException($"the job's build output has {deps[0]} but no {main}");
        return main;
    }

    private static bool IsShared(string file) =>
        !file.Contains('/') && Path.GetFileNameWithoutExtension(file) == SharedAssembly && Path.GetExtension(file) is ".dll" or ".pdb" or ".xml";

    private static void CopyAtMost(Stream source, Stream target, long length)
    {
        var buffer = new byte[81920];
        long left = length;
        int read;
        while ((read = source.Read(buffer, 0, (int)Math.Min(buffer.Length, left + 1))) > 0)
        {
            if (read > left) throw new JobArchiveException("the job's archive holds a file larger than its entry says");
            target.Write(buffer, 0, read);
            left -= read;
        }
    }
}

/// <summary>A job archive that cannot be used: not a zip, no job assembly, or an entry outside it.</summary>
public sealed class JobArchiveException(string message) : Exception(message);
