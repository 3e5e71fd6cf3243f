using System.Security.Cryptography;

namespace MapReduce.Storage.Blobs;

/// <summary>What a code id names: a task.csx, or a job project's build output as one archive.</summary>
public enum CodeKind
{
    Script,
    Project,
}

/// <summary>
/// A job's code is stored content-addressed, one blob per content hash: its id is a prefix that
/// says its kind ('code-' for a task.csx, 'proj-' for a job project's archive) and the first 16 hex
/// digits of the blob's SHA-256; its key is <c>code/{id}/task.csx</c> or <c>code/{id}/job.zip</c>,
/// a function of the id alone, so whoever runs a job needs nothing but its code id. The store
/// refuses a blob under another blob's id, and a worker refuses to run code that does not hash to
/// its id, so whoever can reach the kvstore cannot swap the code that a printed code id names.
/// </summary>
public static class CodeBlob
{
    private const string Folder = "code/";
    private const string ScriptPrefix = "code-";
    private const string ProjectPrefix = "proj-";
    private const string ScriptFile = "/task.csx";
    private const string ProjectFile = "/job.zip";

    /// <summary>The id of a task.csx.</summary>
    public static string IdOf(ReadOnlySpan<byte> script) => IdOf(CodeKind.Script, script);

    public static string IdOf(CodeKind kind, ReadOnlySpan<byte> blob) => IdOfDigest(kind, Convert.ToHexStringLower(SHA256.HashData(blob)));

    /// <summary>The code id of a blob of <paramref name="kind"/> whose SHA-256 is <paramref name="sha256Hex"/> (64 lowercase hex digits).</summary>
    public static string IdOfDigest(CodeKind kind, string sha256Hex) => Prefix(kind) + sha256Hex[..16];

    /// <summary>The kind a well-formed id names (<see cref="IdProblem"/> is null for it).</summary>
    public static CodeKind KindOf(string codeId) => codeId.StartsWith(ProjectPrefix, StringComparison.Ordinal) ? CodeKind.Project : CodeKind.Script;

    public static string KeyOf(string codeId) => $"{Folder}{codeId}{File(KindOf(codeId))}";

    /// <summary>Null when <paramref name="codeId"/> is the form <see cref="IdOf(CodeKind, ReadOnlySpan{byte})"/> gives ('code-' or 'proj-' and 16 lowercase hex digits), otherwise why not.</summary>
    public static string? IdProblem(string? codeId) =>
        codeId is { Length: 21 } && (codeId.StartsWith(ScriptPrefix, StringComparison.Ordinal) || codeId.StartsWith(ProjectPrefix, StringComparison.Ordinal))
        && codeId.AsSpan(5).ContainsAnyExcept("0123456789abcdef") is false
            ? null
            : $"code id '{BlobKey.Printable(codeId ?? "")}' is not valid: it is 'code-' and the first 16 hex digits of the script's SHA-256 (or 'proj-' and those of a job project's archive)";

    /// <summary>The code id a key names, or null when the key is not a code blob's (<c>code/ID/task.csx</c> or <c>code/ID/job.zip</c>).</summary>
    public static string? IdInKey(string key) => Parse(key)?.Id;

    /// <summary>Null when <paramref name="blob"/> may be stored under <paramref name="key"/>, otherwise why not.</summary>
    public static string? Problem(string key, ReadOnlySpan<byte> blob) =>
        Parse(key) is null ? null : ProblemOfDigest(key, Convert.ToHexStringLower(SHA256.HashData(blob)));

    /// <summary><see cref="Problem"/> for a blob known by its SHA-256 (<paramref name="sha256Hex"/>, lowercase hex), hashed while it streamed.</summary>
    public static string? ProblemOfDigest(string key, string sha256Hex) =>
        Parse(key) is var (id, kind) && IdOfDigest(kind, sha256Hex) is var actual && actual != id
            ? $"{key} must hold the {(kind == CodeKind.Script ? "script" : "archive")} whose SHA-256 gives its id, but these bytes give {actual}"
            : null;

    /// <summary>The id and kind a code blob's key holds: the kind is the file's, whatever the id's prefix (a mismatch is a wrong hash).</summary>
    private static (string Id, CodeKind Kind)? Parse(string key)
    {
        if (!key.StartsWith(Folder, StringComparison.Ordinal)) return null;
        foreach (var kind in (ReadOnlySpan<CodeKind>)[CodeKind.Script, CodeKind.Project])
        {
            var file = File(kind);
            if (key.EndsWith(file, StringComparison.Ordinal) && key.Length > Folder.Length + file.Length)
                return (key[Folder.Length..^file.Length], kind);
        }
        return null;
    }

    private static string Prefix(CodeKind kind) => kind == CodeKind.Script ? ScriptPrefix : ProjectPrefix;

    private static string File(CodeKind kind) => kind == CodeKind.Script ? ScriptFile : ProjectFile;
}
