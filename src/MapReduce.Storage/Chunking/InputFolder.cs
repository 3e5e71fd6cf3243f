namespace MapReduce.Storage.Chunking;

/// <summary>
/// One input file: its document id (path relative to the input folder, '/'-separated, prefixed with
/// the folder's name when a job reads several), where it is, and its length and last write time
/// when it was listed (a file that differs from them later changed during the upload).
/// </summary>
public sealed record InputDocument(string DocId, string FullPath, long Length)
{
    public DateTime LastWriteUtc { get; init; }

    /// <summary>A gzip file, by its name as Hadoop's codecs are chosen: stored compressed as one chunk, decompressed by the worker.</summary>
    public bool IsGzip => DocId.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Lists the files of one or more input folders before anything is uploaded: only regular files are
/// read. A symbolic link is followed only when it leads inside its input folder, and a folder it
/// leads to is not entered again while it is being read (a cycle); FIFOs, sockets and devices are
/// never opened (opening a FIFO waits for a writer forever). Each of those is skipped with a warning
/// that says so; hidden files and folders (name starting with '.') are skipped silently.
/// </summary>
public static class InputFolder
{
    /// <summary>The documents of one folder, in ordinal order of document id; warnings are dropped.</summary>
    public static IReadOnlyList<InputDocument> List(string folder) => List([folder], _ => { });

    /// <summary>
    /// Every regular file below <paramref name="folders"/>, in ordinal order of document id. With
    /// one folder a document id is the file's path below it; with several it starts with the
    /// folder's name (<see cref="DocIdPrefixes"/>). Throws <see cref="InputException"/> with a
    /// message for the user when a folder is missing, two overlap, or two documents would share an id.
    /// </summary>
    public static IReadOnlyList<InputDocument> List(IReadOnlyList<string> folders, Action<string> warn)
    {
        if (folders.Count == 0) throw new InputException("give at least one input folder");
        var roots = new List<(string Given, string Real)>();
        foreach (var folder in folders)
        {
            if (File.Exists(folder) && !Directory.Exists(folder)) throw new InputException($"input '{folder}' is a file; pass the folder that holds the input files");
            if (!Directory.Exists(folder)) throw new InputException($"input folder '{folder}' does not exist");
            roots.Add((folder, RealPath.Of(Path.GetFullPath(folder))));
        }
        for (var i = 0; i < roots.Count; i++)
            for (var j = i + 1; j < roots.Count; j++)
                if (RealPath.IsInside(roots[i].Real, roots[j].Real) || RealPath.IsInside(roots[j].Real, roots[i].Real))
                    throw new InputException(roots[i].Real == roots[j].Real
                        ? $"input folders '{roots[i].Given}' and '{roots[j].Given}' are the same folder; give it once"
                        : $"input folders '{roots[i].Given}' and '{roots[j].Given}' overlap (one is inside the other), so their files would be read twice");

        var prefixes = roots.Count == 1 ? [""] : DocIdPrefixes(roots.Select(r => r.Real).ToList());
        var docs = new List<InputDocument>();
        var origin = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < roots.Count; i++)
        {
            var found = new List<InputDocument>();
            Walk(roots[i].Real, roots[i].Real, "", [roots[i].Real], found, warn);
            foreach (var doc in found)
            {
                var docId = prefixes[i].Length == 0 ? doc.DocId : $"{prefixes[i]}/{doc.DocId}";
                if (!origin.TryAdd(docId, roots[i].Given))
                    throw new InputException($"input folders '{origin[docId]}' and '{roots[i].Given}' both give a document '{docId}'; rename one of the folders");
                docs.Add(doc with { DocId = docId });
            }
        }
        docs.Sort((a, b) => string.CompareOrdinal(a.DocId, b.DocId));
        return docs;
    }

    /// <summary>
    /// What the document ids of each of several folders start with: the folder's name, and where
    /// several folders share a name, as many of their parent folders as it takes to tell those apart
    /// (the same number for all of them): <c>2023/books</c> and <c>2024/books</c>.
    /// </summary>
    public static IReadOnlyList<string> DocIdPrefixes(IReadOnlyList<string> realFolders)
    {
        var segments = realFolders.Select(f => f.Split('/', '\\').Where(s => s.Length > 0).ToArray()).ToList();
        for (var i = 0; i < segments.Count; i++)
            if (segments[i].Length == 0) throw new InputException($"input folder '{realFolders[i]}' has no name to tell its documents apart from the other folders'; give a folder below it");
        var prefixes = new string[segments.Count];
        foreach (var group in Enumerable.Range(0, segments.Count).GroupBy(i => segments[i][^1], StringComparer.Ordinal))
        {
            var members = group.ToList();
            for (var depth = 1; ; depth++)
            {
                var candidates = members.Select(i => string.Join('/', segments[i][Math.Max(0, segments[i].Length - depth)..])).ToList();
                if (candidates.Distinct(StringComparer.Ordinal).Count() == candidates.Count)
                {
                    for (var k = 0; k < members.Count; k++) prefixes[members[k]] = candidates[k];
                    break;
                }
            }
        }
        return prefixes;
    }

    /// <summary>Opens a document's file for chunking, past a UTF-8 byte order mark if it has one.</summary>
    public static Stream OpenText(InputDocument doc)
    {
        // Unbuffered: the chunker reads only a few windows, each at once (and 100,000 small files would allocate 6 GB of buffers).
        var stream = new FileStream(doc.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        Span<byte> bom = stackalloc byte[3];
        var n = stream.Read(bom);
        if (n < 3 || bom[0] != 0xEF || bom[1] != 0xBB || bom[2] != 0xBF) stream.Position = 0;
        return stream;
    }

    /// <param name="root">The input folder's real path: a link may lead anywhere below it.</param>
    /// <param name="folder">The real path of the folder being read.</param>
    /// <param name="relative">Its path below the input folder as the user sees it ('/'-separated, "" for the root).</param>
    /// <param name="open">The real paths of the folders being read, from the root down: entering one of them again is a cycle.</param>
    private static void Walk(string root, string folder, string relative, HashSet<string> open, List<InputDocument> found, Action<string> warn)
    {
        IEnumerable<FileSystemInfo> entries;
        try
        {
            entries = new DirectoryInfo(folder).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false }).ToList();
        }
        catch (UnauthorizedAccessException)
        {
            throw new InputException($"input folder '{(relative.Length == 0 ? folder : relative)}' cannot be read (permission denied)");
        }
        catch (DirectoryNotFoundException)
        {
            return; // deleted while the folders were listed: nothing to read there
        }
        foreach (var entry in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            if (entry.Name.StartsWith('.')) continue;
            var path = relative.Length == 0 ? entry.Name : $"{relative}/{entry.Name}";
            var real = Path.Join(folder, entry.Name);
            var status = FileTypeProbe.Stat(real, followLink: false);
            if (status.Type == FileType.SymbolicLink)
            {
                string target;
                try
                {
                    target = RealPath.Of(real);
                }
                catch (IOException e)
                {
                    warn($"skipped '{path}': a symbolic link that cannot be followed ({e.Message})");
                    continue;
                }
                if (!RealPath.IsInside(target, root))
                {
                    warn($"skipped '{path}': a symbolic link to '{target}', outside the input folder (links are followed only inside it)");
                    continue;
                }
                status = FileTypeProbe.Stat(target, followLink: true);
                if (status.Type == FileType.Missing)
                {
                    warn($"skipped '{path}': a symbolic link to '{target}', which does not exist");
                    continue;
                }
                real = target;
            }
            switch (status.Type)
            {
                case FileType.Directory when open.Contains(real):
                    warn($"skipped '{path}': it leads back to {(real == root ? "the input folder" : $"the folder '{Relative(root, real)}'")}, which holds it (a cycle of symbolic links)");
                    break;
                case FileType.Directory:
                    open.Add(real);
                    Walk(root, real, path, open, found, warn);
                    open.Remove(real);
                    break;
                case FileType.Regular:
                    found.Add(new InputDocument(path, real, status.Length) { LastWriteUtc = status.LastWriteUtc });
                    break;
                case FileType.Missing:
                    break; // deleted while the folder was listed
                default:
                    warn($"skipped '{path}': a {FileTypeProbe.Describe(status.Type)}, not a regular file (only regular files are read)");
                    break;
            }
        }
    }

    private static string Relative(string root, string real) => Path.GetRelativePath(root, real).Replace(Path.DirectorySeparatorChar, '/');
}

/// <summary>A problem with the user's input, reported as one line without a stack trace.</summary>
public sealed class InputException(string message) : Exception(message);
