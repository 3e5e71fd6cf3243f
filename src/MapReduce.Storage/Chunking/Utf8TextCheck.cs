using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace MapReduce.Storage.Chunking;

/// <summary>
/// Checks UTF-8 text handed to it piece by piece, as it is read: that it is valid UTF-8 (a
/// sequence cut between two pieces is joined up), and that no line is longer than
/// <paramref name="maxLineBytes"/> bytes (without its '\n'), since a line is mapped whole. Fails at
/// the first problem with <see cref="InvalidUtf8Exception"/> or <see cref="LineTooLongException"/>.
/// Vectorized: about as fast as the bytes can be read.
/// </summary>
public sealed class Utf8TextCheck(long maxLineBytes) : ITextSink
{
    private readonly byte[] _pending = new byte[4];
    private int _pendingLength;
    private long _lineStart;

    /// <summary>Text bytes checked so far.</summary>
    public long Bytes { get; private set; }

    /// <summary>Line ends ('\n') seen so far.</summary>
    public long Newlines { get; private set; }

    public void Write(ReadOnlySpan<byte> text)
    {
        CheckUtf8(text);
        CheckLines(text);
        Bytes += text.Length;
    }

    /// <summary>The end of the text: a character cut off at the end is invalid.</summary>
    public void Complete()
    {
        if (_pendingLength > 0) throw new InvalidUtf8Exception(Bytes - _pendingLength);
    }

    private void CheckUtf8(ReadOnlySpan<byte> text)
    {
        var start = 0;
        if (_pendingLength > 0)
        {
            // Finish the character the last piece ended inside, then go on from there.
            var needed = SequenceLength(_pending[0]) - _pendingLength;
            var taken = Math.Min(needed, text.Length);
            text[..taken].CopyTo(_pending.AsSpan(_pendingLength));
            if (taken < needed)
            {
                _pendingLength += taken;
                if (!PrefixMayBeValid(_pending.AsSpan(0, _pendingLength))) throw new InvalidUtf8Exception(Bytes - _pendingLength + taken);
                return;
            }
            var joined = _pending.AsSpan(0, _pendingLength + taken);
            if (!Utf8.IsValid(joined)) throw new InvalidUtf8Exception(Bytes - _pendingLength);
            _pendingLength = 0;
            start = taken;
        }
        var end = text.Length - CutTail(text[start..]);
        var whole = text[start..end];
        if (!Utf8.IsValid(whole)) throw new InvalidUtf8Exception(Bytes + start + FirstInvalid(whole));
        text[end..].CopyTo(_pending);
        _pendingLength = text.Length - end;
    }

    private void CheckLines(ReadOnlySpan<byte> text)
    {
        var position = 0;
        while (true)
        {
            var rest = text[position..];
            var newline = rest.IndexOf((byte)'\n');
            if (newline < 0) break;
            CheckLine(Bytes + position + newline);
            Newlines++;
            _lineStart = Bytes + position + newline + 1;
            position += newline + 1;
            if (text.Length - position <= maxLineBytes)
            {
                // Every line that ends in the rest of this piece is shorter than the limit: only count them.
                var tail = text[position..];
                var last = tail.LastIndexOf((byte)'\n');
                if (last >= 0)
                {
                    Newlines += tail.Count((byte)'\n');
                    _lineStart = Bytes + position + last + 1;
                }
                break;
            }
        }
        CheckLine(Bytes + text.Length); // the line still open at the end of this piece
    }

    private void CheckLine(long end)
    {
        if (end - _lineStart > maxLineBytes) throw new LineTooLongException(Newlines + 1, maxLineBytes);
    }

    /// <summary>The length of the UTF-8 sequence a lead byte starts (1 for a byte that cannot start one: it is invalid anyway).</summary>
    private static int SequenceLength(byte lead) => lead switch
    {
        >= 0xF0 => 4,
        >= 0xE0 => 3,
        >= 0xC0 => 2,
        _ => 1,
    };

    /// <summary>How many bytes at the end of <paramref name="text"/> start a character that goes on in the next piece.</summary>
    private static int CutTail(ReadOnlySpan<byte> text)
    {
        for (var back = 1; back <= Math.Min(3, text.Length); back++)
        {
            var b = text[^back];
            if (b < 0x80) return 0;
            if (b >= 0xC0) return SequenceLength(b) > back ? back : 0;
        }
        return 0;
    }

    /// <summary>Whether an unfinished sequence could still become a valid character.</summary>
    private static bool PrefixMayBeValid(ReadOnlySpan<byte> prefix) =>
        Rune.DecodeFromUtf8(prefix, out _, out _) == OperationStatus.NeedMoreData;

    /// <summary>The offset of the first byte that is not part of a valid character (the text is known to hold one).</summary>
    private static long FirstInvalid(ReadOnlySpan<byte> text)
    {
        for (var i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf8(text[i..], out _, out var consumed) != OperationStatus.Done) return i;
            i += consumed;
        }
        return text.Length;
    }
}

/// <summary>The text is not valid UTF-8 from <see cref="Offset"/> (a byte offset into the text).</summary>
public sealed class InvalidUtf8Exception(long offset) : Exception($"not valid UTF-8 at byte offset {offset}")
{
    public long Offset { get; } = offset;
}

/// <summary>Line <see cref="Line"/> (counted from 1) is longer than the limit.</summary>
public sealed class LineTooLongException(long line, long limit) : Exception($"line {line} is longer than {limit} bytes")
{
    public long Line { get; } = line;
    public long Limit { get; } = limit;
}
