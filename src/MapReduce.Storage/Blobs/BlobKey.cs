using System.Text.RegularExpressions;

namespace MapReduce.Storage.Blobs;

/// <summary>
/// A validated blob key: '/'-separated segments of [A-Za-z0-9._-], each starting with a letter or
/// digit. That rules out "..", ".", absolute paths, backslashes and empty segments, so a key can
/// never name a file outside the store's folder.
/// </summary>
public static partial class BlobKey
{
    public const int MaxLength = 400;

    // \z, not $: $ also matches before a final newline, which would pass "a/b\n".
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*\z")]
    private static partial Regex Shape();

    /// <summary>Null when the key is valid, otherwise why it is not.</summary>
    public static string? Problem(string? key)
    {
        if (string.IsNullOrEmpty(key)) return "a blob key must not be empty";
        if (key.Length > MaxLength) return $"blob key is {key.Length} characters long; at most {MaxLength} are allowed";
        if (!Shape().IsMatch(key))
            return $"invalid blob key '{Printable(key)}': use '/'-separated segments of letters, digits, '.', '_' and '-', each starting with a letter or digit";
        return null;
    }

    public static void Validate(string? key)
    {
        var problem = Problem(key);
        if (problem is not null) throw new InvalidBlobKeyException(problem);
    }

    /// <summary>Untrusted text as one short line in a message: its first 80 characters, control characters as '?'.</summary>
    public static string Printable(string text) =>
        new(text.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}

public sealed class InvalidBlobKeyException(string message) : ArgumentException(message);
