using System.Security.Cryptography;

namespace MapReduce.Storage.Blobs;

/// <summary>
/// A job's script is stored content-addressed: its id is the first 16 hex digits of its SHA-256,
/// and its key is <c>code/{id}/task.csx</c>. The store refuses a script under another script's id,
/// and a worker refuses to compile one that does not hash to its id, so whoever can reach the
/// kvstore cannot swap the code that a printed code id names.
/// </summary>
public static class CodeBlob
{
    private const string Folder = "code/";
    private const string FileName = "/task.csx";

    public static string IdOf(ReadOnlySpan<byte> script) => IdOfDigest(Convert.ToHexStringLower(SHA256.HashData(script)));

    /// <summary>The code id of a script whose SHA-256 is <paramref name="sha256Hex"/> (64 lowercase hex digits).</summary>
    public static string IdOfDigest(string sha256Hex) => "code-" + sha256Hex[..16];

    public static string KeyOf(string codeId) => $"{Folder}{codeId}{FileName}";

    /// <summary>Null when <paramref name="codeId"/> is the form <see cref="IdOf"/> gives ('code-' and 16 lowercase hex digits), otherwise why not.</summary>
    public static string? IdProblem(string? codeId) =>
        codeId is { Length: 21 } && codeId.StartsWith("code-", StringComparison.Ordinal) && codeId.AsSpan(5).ContainsAnyExcept("0123456789abcdef") is false
            ? null
            : $"code id '{BlobKey.Printable(codeId ?? "")}' is not valid: it is 'code-' and the first 16 hex digits of the script's SHA-256";

    /// <summary>The code id a key names, or null when the key is not a script's.</summary>
    public static string? IdInKey(string key) =>
        key.StartsWith(Folder, StringComparison.Ordinal) && key.EndsWith(FileName, StringComparison.Ordinal) && key.Length > Folder.Length + FileName.Length
            ? key[Folder.Length..^FileName.Length]
            : null;

    /// <summary>Null when <paramref name="script"/> may be stored under <paramref name="key"/>, otherwise why not.</summary>
    public static string? Problem(string key, ReadOnlySpan<byte> script) =>
        IdInKey(key) is null ? null : ProblemOfDigest(key, Convert.ToHexStringLower(SHA256.HashData(script)));

    /// <summary><see cref="Problem"/> for a script known by its SHA-256 (<paramref name="sha256Hex"/>, lowercase hex), hashed while it streamed.</summary>
    public static string? ProblemOfDigest(string key, string sha256Hex) =>
        IdInKey(key) is { } id && IdOfDigest(sha256Hex) is var actual && actual != id
            ? $"{key} must hold the script whose SHA-256 gives its id, but these bytes give {actual}"
            : null;
}
