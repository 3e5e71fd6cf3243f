using System.IO.Compression;
using System.Text;
using MapReduce.Storage.Chunking;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Storage;

/// <summary>
/// Reading input documents as the UTF-8 text that is stored (<see cref="TextSource"/>) and checking
/// them before an upload (<see cref="InputCheck"/>): encodings, gzip files whole or broken, binary
/// files, long lines; each problem one line naming the file and where.
/// </summary>
public sealed class InputCheckTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private InputDocument Doc(string name, byte[] bytes)
    {
        var path = _folder.File(name);
        File.WriteAllBytes(path, bytes);
        return new InputDocument(name, path, bytes.Length);
    }

    private static byte[] Gzip(params byte[][] members)
    {
        var all = new MemoryStream();
        foreach (var member in members)
        {
            using var gzip = new GZipStream(all, CompressionLevel.Fastest, leaveOpen: true);
            gzip.Write(member);
        }
        return all.ToArray();
    }

    private static string Text(InputDocument doc, Encoding encoding)
    {
        var utf8 = new MemoryStream();
        TextSource.Read(doc, encoding, new StreamTextSink(utf8));
        return new UTF8Encoding(false, true).GetString(utf8.ToArray());
    }

    private static string Problem(InputDocument doc, string? encoding = null, long maxLine = long.MaxValue) =>
        Assert.Throws<InputException>(() => InputCheck.Run([doc], TextEncodings.Resolve(encoding), maxLine)).Message;

    [Fact]
    public void A_latin1_file_is_read_as_the_text_it_holds_and_as_utf8_it_fails_at_its_first_accented_byte()
    {
        var doc = Doc("latin.txt", Encoding.Latin1.GetBytes("café café naïve\n"));
        Assert.Equal("café café naïve\n", Text(doc, TextEncodings.Resolve("latin1")));
        Assert.Equal("input file 'latin.txt' is not valid UTF-8 at byte offset 3; give its encoding with --encoding (e.g. --encoding latin1)", Problem(doc));
        InputCheck.Run([doc], TextEncodings.Resolve("iso-8859-1"), long.MaxValue);
    }

    [Fact]
    public void A_byte_the_encoding_does_not_define_fails_with_its_offset_and_the_text_is_never_altered()
    {
        // ASCII defines only bytes below 0x80.
        var doc = Doc("a.txt", [(byte)'a', (byte)'\n', (byte)'b', 0xE9, (byte)'\n']);
        Assert.Equal("input file 'a.txt' is not valid us-ascii at byte offset 3", Problem(doc, "us-ascii"));
        Assert.Equal("input file 'a.txt' is not valid us-ascii at byte offset 3", Problem(doc, "20127"));
        // Shift-JIS: 0x81 starts a two-byte character that 0x0A cannot end.
        Assert.Equal("input file 'sjis.txt' is not valid shift_jis at byte offset 2", Problem(Doc("sjis.txt", [(byte)'o', (byte)'k', 0x81, (byte)'\n']), "shift_jis"));
        var utf8 = Doc("u.txt", [0xEF, 0xBB, 0xBF, (byte)'o', (byte)'k', (byte)'\n', 0xC3, (byte)'(']);
        Assert.Equal("input file 'u.txt' is not valid UTF-8 at byte offset 6; give its encoding with --encoding (e.g. --encoding latin1)", Problem(utf8));
        var cut = Doc("cut.txt", [(byte)'a', 0xE2, 0x82]); // a euro sign cut off at the end of the file
        Assert.Equal("input file 'cut.txt' is not valid UTF-8 at byte offset 1; give its encoding with --encoding (e.g. --encoding latin1)", Problem(cut));
    }

    [Fact]
    public void Utf16_with_its_byte_order_mark_is_transcoded_and_a_utf8_byte_order_mark_is_not_text()
    {
        var utf16 = Doc("u16.txt", [.. Encoding.Unicode.Preamble, .. Encoding.Unicode.GetBytes("naïve 𝄞\nline\n")]);
        Assert.Equal("naïve 𝄞\nline\n", Text(utf16, TextEncodings.Resolve("utf-16")));
        var bom = Doc("bom.txt", [.. Encoding.UTF8.Preamble, .. "héllo\n"u8.ToArray()]);
        Assert.Equal("héllo\n", Text(bom, TextEncodings.Utf8));
        Assert.Equal("héllo\n", Text(bom, TextEncodings.Resolve("utf8")));
    }

    [Fact]
    public void An_unknown_encoding_says_how_to_find_the_known_ones()
    {
        Assert.Equal("unknown encoding 'klingon'; `--encoding list` prints the names and code pages this machine knows (e.g. utf-8, latin1, windows-1252, utf-16)",
            Assert.Throws<InputException>(() => TextEncodings.Resolve("klingon")).Message);
        Assert.Contains(TextEncodings.All(), e => e.Name == "windows-1252" && e.CodePage == 1252);
    }

    [Fact]
    public void A_binary_file_is_refused_by_its_first_NUL_byte_but_utf16_text_is_not_binary()
    {
        var png = Doc("image.png", [0x89, 0x50, 0x4E, 0x47, 0x00, 0x01]);
        Assert.Equal("input file 'image.png' looks binary (a NUL byte at offset 4); MapReduce.NET reads text files (UTF-8)", Problem(png));
        InputCheck.Run([Doc("u16le.txt", Encoding.Unicode.GetBytes("ab\n"))], TextEncodings.Resolve("utf-16"), long.MaxValue);
    }

    [Fact]
    public void A_gzip_file_is_read_decompressed_in_one_member_or_several_and_an_empty_file_is_no_text()
    {
        var one = Doc("one.txt.gz", Gzip("the cat\nthe dog\n"u8.ToArray()));
        Assert.Equal("the cat\nthe dog\n", Text(one, TextEncodings.Utf8));
        var several = Doc("several.gz", Gzip("first\n"u8.ToArray(), "second\n"u8.ToArray(), "third\n"u8.ToArray()));
        Assert.Equal("first\nsecond\nthird\n", Text(several, TextEncodings.Utf8));
        InputCheck.Run([one, several], TextEncodings.Utf8, long.MaxValue);
        var latin = Doc("latin.gz", Gzip(Encoding.Latin1.GetBytes("café\n")));
        Assert.Equal("café\n", Text(latin, TextEncodings.Resolve("latin1")));
        Assert.Equal("input file 'latin.gz' is not valid UTF-8 at byte offset 3 of its decompressed data; give its encoding with --encoding (e.g. --encoding latin1)", Problem(latin));
        Assert.Equal("", Text(Doc("empty.gz", []), TextEncodings.Utf8));
    }

    [Fact]
    public void A_gzip_file_cut_short_corrupt_or_not_gzip_at_all_fails_with_one_line_naming_it()
    {
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 5000).Select(i => $"line {i} naïve café\n")));
        var whole = Gzip(text);
        Assert.Equal("input file 'cut.gz' is cut short: its gzip data ends before its end marker", Problem(Doc("cut.gz", whole[..(whole.Length / 2)])));
        Assert.Equal("input file 'notrailer.gz' is cut short: its gzip data ends before its end marker", Problem(Doc("notrailer.gz", whole[..^8])));
        Assert.Equal("input file 'second-cut.gz' is cut short: its gzip data ends before its end marker", Problem(Doc("second-cut.gz", [.. whole, .. whole[..(whole.Length / 3)]])));
        var flipped = (byte[])whole.Clone();
        flipped[^6] ^= 0xFF; // in the CRC-32 of the trailer
        Assert.Equal("input file 'crc.gz' fails its gzip checksum (the data is corrupt)", Problem(Doc("crc.gz", flipped)));
        Assert.Equal("input file 'plain.gz' is not gzip data (it does not start with a gzip header)", Problem(Doc("plain.gz", "just text\n"u8.ToArray())));
    }

    [Fact]
    public void A_line_longer_than_the_limit_is_refused_with_its_number_and_the_first_bad_document_in_order_is_reported()
    {
        var lines = Doc("lines.txt", Encoding.ASCII.GetBytes("a\nbb\n" + new string('x', 5000) + "\ncc\n"));
        Assert.Equal("input file 'lines.txt': line 3 is longer than mapreduce.max-line-size (4,096 bytes); a line is mapped whole, in memory: split it, or raise the limit",
            Problem(lines, maxLine: 4096));
        InputCheck.Run([lines], TextEncodings.Utf8, 5000);

        var docs = Enumerable.Range(0, 40).Select(i => Doc($"d{i:D2}.txt", i is 17 or 31 ? [0xFF] : "fine\n"u8.ToArray())).ToList();
        Assert.Equal("input file 'd17.txt' is not valid UTF-8 at byte offset 0; give its encoding with --encoding (e.g. --encoding latin1)",
            Assert.Throws<InputException>(() => InputCheck.Run(docs, TextEncodings.Utf8, long.MaxValue)).Message);
    }
}
