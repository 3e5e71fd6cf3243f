using System.Text;

namespace MapReduce.Storage.Chunking;

/// <summary>
/// The encodings input files may be read in (<c>--encoding</c>): any name or code page .NET knows,
/// with Windows and ISO code pages from <see cref="CodePagesEncodingProvider"/>. Every one refuses
/// bytes it cannot decode instead of replacing them, so text is never altered on the way in.
/// </summary>
public static class TextEncodings
{
    /// <summary>What <c>--encoding list</c> asks for.</summary>
    public const string ListRequest = "list";

    static TextEncodings() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>UTF-8 that refuses invalid bytes: the default, and what every chunk is stored in.</summary>
    public static Encoding Utf8 { get; } = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The encoding called <paramref name="name"/> (a name such as <c>latin1</c>, or a code page number); throws <see cref="InputException"/> for one .NET does not know.</summary>
    public static Encoding Resolve(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return Utf8;
        var trimmed = name.Trim();
        if (trimmed.Equals("utf8", StringComparison.OrdinalIgnoreCase)) return Utf8; // a common spelling .NET does not accept
        try
        {
            var encoding = int.TryParse(trimmed, out var codePage)
                ? Encoding.GetEncoding(codePage, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback)
                : Encoding.GetEncoding(trimmed, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
            return IsUtf8(encoding) ? Utf8 : encoding;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new InputException($"unknown encoding '{trimmed}'; `--encoding {ListRequest}` prints the names and code pages this machine knows (e.g. utf-8, latin1, windows-1252, utf-16)");
        }
    }

    public static bool IsUtf8(Encoding encoding) => encoding.CodePage == Encoding.UTF8.CodePage;

    /// <summary>Whether the character NUL is one 0 byte and no other character holds a 0 byte (UTF-8, latin1 and every other ASCII-compatible encoding; not UTF-16).</summary>
    public static bool NulIsOneByte(Encoding encoding) => encoding.GetByteCount("\0") == 1 && encoding.GetByteCount("\n") == 1;

    /// <summary>Every encoding this machine knows: code page, name, and what it is.</summary>
    public static IEnumerable<(int CodePage, string Name, string DisplayName)> All() =>
        Encoding.GetEncodings().OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase).Select(e => (e.CodePage, e.Name, e.DisplayName));
}
