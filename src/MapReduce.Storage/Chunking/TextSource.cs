using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using ICSharpCode.SharpZipLib;
using ICSharpCode.SharpZipLib.GZip;

namespace MapReduce.Storage.Chunking;

/// <summary>Where <see cref="TextSource"/> puts a document's text: UTF-8, piece by piece, then the end.</summary>
public interface ITextSink
{
    void Write(ReadOnlySpan<byte> utf8);

    void Complete();
}

/// <summary>Writes the text to a stream (a temp file, or a gzip stream over one).</summary>
public sealed class StreamTextSink(Stream target) : ITextSink
{
    public void Write(ReadOnlySpan<byte> utf8) => target.Write(utf8);

    public void Complete() => target.Flush();
}

/// <summary>
/// Reads an input document as the UTF-8 text that is stored and mapped: past a byte order mark,
/// decompressed when it is a .gz file, and decoded from its encoding (<c>--encoding</c>), strictly: a
/// byte that is not valid in the encoding fails with the file and its byte offset, and is never
/// replaced. Every problem is an <see cref="InputException"/> that names the file.
/// </summary>
public static class TextSource
{
    private const int PieceBytes = 1 << 20;
    /// <summary>A NUL byte this near the start says "binary", as git and grep decide.</summary>
    private const int SniffBytes = 8192;

    /// <param name="verifyGzip">
    /// Check that a .gz file is complete: .NET's GZipStream ends quietly at the end of a file that was
    /// cut short, so the decompressed bytes are compared with the last member's CRC-32 and length,
    /// and a file they do not describe (several members, or cut short) is read once more by SharpZipLib,
    /// which checks every member.
    /// </param>
    public static void Read(InputDocument doc, Encoding encoding, ITextSink sink, bool verifyGzip = true)
    {
        using var file = new FileStream(doc.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        if (file.Length == 0)
        {
            sink.Complete(); // an empty file is an empty document, whatever its name
            return;
        }
        if (!doc.IsGzip)
        {
            Pump(doc, file, encoding, sink, null);
            return;
        }
        var crc = verifyGzip ? new Crc32() : null;
        long length;
        try
        {
            using var data = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
            length = Pump(doc, data, encoding, sink, crc);
        }
        catch (InvalidDataException)
        {
            throw GzipProblem(doc) ?? Gzip(doc, "is not valid gzip data (corrupt, or with bytes after its end)");
        }
        catch (InputException) when (verifyGzip && GzipProblem(doc) is { } problem)
        {
            throw problem; // text cut off mid-character is the gzip file's fault
        }
        if (crc is not null && !TrailerDescribes(file, crc.GetCurrentHashAsUInt32(), length) && GzipProblem(doc) is { } wrong) throw wrong;
    }

    /// <summary>Decodes <paramref name="data"/> into the sink; returns the bytes read from it.</summary>
    private static long Pump(InputDocument doc, Stream data, Encoding encoding, ITextSink sink, Crc32? crc)
    {
        var where = doc.IsGzip ? " of its decompressed data" : "";
        var buffer = ArrayPool<byte>.Shared.Rent(PieceBytes);
        try
        {
            var n = data.ReadAtLeast(buffer.AsSpan(0, PieceBytes), PieceBytes, throwOnEndOfStream: false);
            crc?.Append(buffer.AsSpan(0, n));
            long total = n;
            // TextEncodings.Utf8 writes no byte order mark, so its Preamble is empty: skip UTF-8's own.
            var preamble = TextEncodings.IsUtf8(encoding) ? Encoding.UTF8.Preamble : encoding.Preamble;
            var skip = buffer.AsSpan(0, n).StartsWith(preamble) ? preamble.Length : 0;
            if (TextEncodings.NulIsOneByte(encoding) && buffer.AsSpan(skip, Math.Max(0, Math.Min(n, SniffBytes) - skip)).IndexOf((byte)0) is var nul and >= 0)
                throw new InputException($"input file '{doc.DocId}' looks binary (a NUL byte at offset {skip + nul}{where}); MapReduce.NET reads text files ({Name(encoding)})");
            try
            {
                if (TextEncodings.IsUtf8(encoding))
                {
                    sink.Write(buffer.AsSpan(skip, n - skip));
                    while ((n = data.Read(buffer, 0, PieceBytes)) > 0)
                    {
                        crc?.Append(buffer.AsSpan(0, n));
                        total += n;
                        sink.Write(buffer.AsSpan(0, n));
                    }
                }
                else
                {
                    total = Transcode(doc, data, encoding, sink, buffer, n, skip, crc, where);
                }
                sink.Complete();
            }
            catch (InvalidUtf8Exception e)
            {
                throw new InputException($"input file '{doc.DocId}' is not valid UTF-8 at byte offset {e.Offset + skip}{where}; give its encoding with --encoding (e.g. --encoding latin1)");
            }
            catch (LineTooLongException e)
            {
                throw new InputException($"input file '{doc.DocId}': line {e.Line} is longer than mapreduce.max-line-size ({e.Limit:N0} bytes); a line is mapped whole, in memory: split it, or raise the limit");
            }
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Decodes from <paramref name="encoding"/> and encodes as UTF-8, piece by piece; the first piece is already in <paramref name="buffer"/>.</summary>
    private static long Transcode(InputDocument doc, Stream data, Encoding encoding, ITextSink sink, byte[] buffer, int n, int skip, Crc32? crc, string where)
    {
        var decoder = encoding.GetDecoder();
        var encoder = TextEncodings.Utf8.GetEncoder();
        var chars = ArrayPool<char>.Shared.Rent(PieceBytes);
        var utf8 = ArrayPool<byte>.Shared.Rent(TextEncodings.Utf8.GetMaxByteCount(PieceBytes));
        try
        {
            long consumed = 0; // source bytes before buffer[0]
            var start = skip;
            while (true)
            {
                var flush = n == 0;
                var input = buffer.AsSpan(start, n - start);
                do
                {
                    int used, charsUsed;
                    try
                    {
                        decoder.Convert(input, chars, flush, out used, out charsUsed, out _);
                    }
                    catch (DecoderFallbackException e)
                    {
                        var offset = consumed + (n - input.Length) + e.Index;
                        throw new InputException($"input file '{doc.DocId}' is not valid {Name(encoding)} at byte offset {offset}{where}");
                    }
                    input = input[used..];
                    var bytes = encoder.GetBytes(chars.AsSpan(0, charsUsed), utf8, flush && input.IsEmpty);
                    sink.Write(utf8.AsSpan(0, bytes));
                }
                while (!input.IsEmpty);
                if (flush) return consumed;
                consumed += n;
                start = 0;
                n = data.Read(buffer, 0, PieceBytes);
                crc?.Append(buffer.AsSpan(0, n));
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    private static string Name(Encoding encoding) => TextEncodings.IsUtf8(encoding) ? "UTF-8" : encoding.WebName;

    /// <summary>Whether a gzip file's last 8 bytes (CRC-32 and length mod 2^32 of its last member) describe all that was decompressed.</summary>
    private static bool TrailerDescribes(FileStream file, uint crc, long length)
    {
        if (file.Length < 8) return false;
        Span<byte> trailer = stackalloc byte[8];
        RandomAccess.Read(file.SafeFileHandle, trailer, file.Length - 8);
        return BinaryPrimitives.ReadUInt32LittleEndian(trailer) == crc && BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]) == unchecked((uint)length);
    }

    /// <summary>What is wrong with a gzip file, read member by member; null when every member is whole and matches its checksum.</summary>
    private static InputException? GzipProblem(InputDocument doc)
    {
        try
        {
            using var gzip = new GZipInputStream(new FileStream(doc.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan));
            gzip.CopyTo(Stream.Null, 1 << 16);
            return null;
        }
        catch (Exception e) when (e is EndOfStreamException || (e is SharpZipBaseException && e.Message.Contains("EOF", StringComparison.Ordinal)))
        {
            return Gzip(doc, "is cut short: its gzip data ends before its end marker");
        }
        catch (GZipException e) when (e.Message.Contains("crc", StringComparison.OrdinalIgnoreCase))
        {
            return Gzip(doc, "fails its gzip checksum (the data is corrupt)");
        }
        catch (GZipException e) when (e.Message.Contains("magic", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("header", StringComparison.OrdinalIgnoreCase))
        {
            return Gzip(doc, "is not gzip data (it does not start with a gzip header)");
        }
        catch (SharpZipBaseException e)
        {
            return Gzip(doc, $"is not valid gzip data ({e.Message})");
        }
    }

    private static InputException Gzip(InputDocument doc, string problem) => new($"input file '{doc.DocId}' {problem}");
}
