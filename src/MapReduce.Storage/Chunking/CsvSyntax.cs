namespace MapReduce.Storage.Chunking;

/// <summary>
/// RFC 4180 CSV as a state machine over UTF-8 bytes (a '"', ',' or '\n' byte never occurs inside a
/// multi-byte character): a field that starts with '"' is quoted and may hold commas, line breaks
/// and doubled quotes; a record ends at a line end outside quotes. The chunker cuts at those record
/// ends, the upload's check and the worker's reader follow the same rules, so a chunk always holds
/// whole records. Two mistakes are refused, with their line: a quote that is never closed, and a
/// quote where none may be (inside an unquoted field, or right after a closing quote).
/// </summary>
public sealed class CsvSyntax
{
    private enum State : byte { FieldStart, Unquoted, Quoted, QuoteInQuoted }

    private State _state;

    /// <summary>Line of the text being read (1-based): '\n' bytes seen so far, plus one.</summary>
    public long Line { get; private set; }

    /// <summary>The line where the open quoted field started (when <see cref="InQuotes"/>).</summary>
    public long QuoteLine { get; private set; }

    /// <summary>Whether the text read so far ends inside a quoted field.</summary>
    public bool InQuotes => _state == State.Quoted;

    public CsvSyntax(long firstLine = 1)
    {
        Line = firstLine;
    }

    /// <summary>
    /// Reads <paramref name="text"/>; calls <paramref name="recordEnd"/> with the index just past each
    /// record's '\n'. Throws <see cref="CsvSyntaxException"/> at a misplaced quote.
    /// </summary>
    public void Read(ReadOnlySpan<byte> text, Action<int>? recordEnd = null)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var b = text[i];
            switch (_state)
            {
                case State.FieldStart:
                case State.Unquoted:
                    if (b == (byte)'"')
                    {
                        if (_state == State.Unquoted) throw new CsvSyntaxException(Line, "a quote inside an unquoted field (quote the whole field, and double the quotes in it)");
                        _state = State.Quoted;
                        QuoteLine = Line;
                    }
                    else if (b == (byte)',') _state = State.FieldStart;
                    else if (b == (byte)'\n') EndRecord(i);
                    else if (b != (byte)'\r') _state = State.Unquoted;
                    break;
                case State.Quoted:
                    if (b == (byte)'"') _state = State.QuoteInQuoted;
                    else if (b == (byte)'\n') Line++;
                    break;
                case State.QuoteInQuoted:
                    if (b == (byte)'"') _state = State.Quoted; // a doubled quote: one quote in the field
                    else if (b == (byte)',') _state = State.FieldStart;
                    else if (b == (byte)'\n') EndRecord(i);
                    else if (b != (byte)'\r') throw new CsvSyntaxException(Line, "text after the closing quote of a quoted field (double the quotes inside it)");
                    break;
            }
        }

        void EndRecord(int i)
        {
            Line++;
            _state = State.FieldStart;
            recordEnd?.Invoke(i + 1);
        }
    }

    /// <summary>The end of the text: throws when a quoted field is still open.</summary>
    public void Complete()
    {
        if (InQuotes) throw new CsvSyntaxException(QuoteLine, "a quoted field starts here and its closing quote is missing");
    }
}

/// <summary>A CSV text breaks <see cref="CsvSyntax"/> at <see cref="Line"/>.</summary>
public sealed class CsvSyntaxException(long line, string problem) : Exception($"line {line}: {problem}")
{
    public long Line => line;
    public string Problem => problem;
}
