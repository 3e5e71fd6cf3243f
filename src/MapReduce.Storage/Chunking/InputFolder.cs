namespace MapReduce.Storage.Chunking;

/// <summary>One input file: its document id (path relative to the input folder, '/'-separated) and where it is.</summary>
public sealed record InputDocument(string DocId, string FullPath, long Length);

/// <summary>Lists and checks the files of an input folder before anything is uploaded.</summary>
public static class InputFolder
{
    private const int SniffBytes = 8192;

    /// <summary>
    /// Every regular file below <paramref name="folder"/>, hidden files and folders (name starting
    /// with '.') skipped, in ordinal order of document id. Throws <see cref="InputException"/> with
    /// a message for the user when the folder is missing or a file is binary.
    /// </summary>
    public static IReadOnlyList<InputDocument> List(string folder)
    {
        if (File.Exists(folder)) throw new InputException($"input '{folder}' is a file; pass the folder that holds the input files");
        if (!Directory.Exists(folder)) throw new InputException($"input folder '{folder}' does not exist");
        var root = Path.GetFullPath(folder);
        var docs = new List<InputDocument>();
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System, IgnoreInaccessible = false };
        foreach (var path in Directory.EnumerateFiles(root, "*", options))
        {
            var relative = Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
            if (relative.Split('/').Any(part => part.StartsWith('.'))) continue;
            var info = new FileInfo(path);
            if (info.LinkTarget is not null && !File.Exists(info.ResolveLinkTarget(true)?.FullName)) continue;
            CheckText(path, relative);
            docs.Add(new InputDocument(relative, path, info.Length));
        }
        docs.Sort((a, b) => string.CompareOrdinal(a.DocId, b.DocId));
        return docs;
    }

    /// <summary>Opens a document for chunking, past a UTF-8 byte order mark if it has one.</summary>
    public static Stream OpenText(InputDocument doc)
    {
        var stream = new FileStream(doc.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Span<byte> bom = stackalloc byte[3];
        var n = stream.Read(bom);
        if (n < 3 || bom[0] != 0xEF || bom[1] != 0xBB || bom[2] != 0xBF) stream.Position = 0;
        return stream;
    }

    private static void CheckText(string path, string docId)
    {
        using var stream = File.OpenRead(path);
        var head = new byte[SniffBytes];
        var n = stream.Read(head);
        var nul = Array.IndexOf(head, (byte)0, 0, n);
        if (nul >= 0)
            throw new InputException($"input file '{docId}' looks binary (a NUL byte at offset {nul}); MapReduce.NET reads text files (UTF-8)");
    }
}

/// <summary>A problem with the user's input, reported as one line without a stack trace.</summary>
public sealed class InputException(string message) : Exception(message);
