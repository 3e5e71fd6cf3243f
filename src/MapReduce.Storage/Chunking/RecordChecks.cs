using System.Text.Json;

namespace MapReduce.Storage.Chunking;

/// <summary>
/// Checks a document's text for its input format while the upload's check reads it
/// (<see cref="InputCheck"/>), so a bad record fails before anything is stored, naming the file
/// and line: CSV by <see cref="CsvSyntax"/>, JSON lines each one JSON value (a blank line is no record).
/// </summary>
public static class RecordChecks
{
    /// <summary>The check for <paramref name="format"/>, or null when its text needs none beyond being text.</summary>
    public static ITextSink? For(InputFormat format, InputDocument doc) => format switch
    {
        InputFormat.Csv => new CsvCheck(doc),
        InputFormat.JsonLines => new JsonLinesCheck(doc),
        _ => null,
    };

    /// <summary>The message for a JSON line that does not parse; the reader's own position is left out (the line is named).</summary>
    public static string JsonProblem(JsonException e)
    {
        var message = e.Message;
        var at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return at > 0 ? message[..at].TrimEnd(' ', '|') : message;
    }

    private sealed class CsvCheck(InputDocument doc) : ITextSink
    {
        private readonly CsvSyntax _syntax = new();

        public void Write(ReadOnlySpan<byte> utf8)
        {
            try { _syntax.Read(utf8); }
            catch (CsvSyntaxException e) { throw Problem(e); }
        }

        public void Complete()
        {
            try { _syntax.Complete(); }
            catch (CsvSyntaxException e) { throw Problem(e); }
        }

        private InputException Problem(CsvSyntaxException e) => new($"input file '{doc.DocId}' is not valid CSV at line {e.Line}: {e.Problem}");
    }

    private sealed class JsonLinesCheck(InputDocument doc) : ITextSink
    {
        private readonly List<byte> _line = [];
        private long _lineNumber = 1;

        public void Write(ReadOnlySpan<byte> utf8)
        {
            while (!utf8.IsEmpty)
            {
                var end = utf8.IndexOf((byte)'\n');
                if (end < 0)
                {
                    _line.AddRange(utf8);
                    return;
                }
                _line.AddRange(utf8[..end]);
                CheckLine();
                utf8 = utf8[(end + 1)..];
            }
        }

        public void Complete() => CheckLine();

        private void CheckLine()
        {
            var line = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_line);
            if (!line.Trim(" \t\r"u8).IsEmpty)
            {
                try
                {
                    var reader = new Utf8JsonReader(line);
                    while (reader.Read()) { }
                }
                catch (JsonException e)
                {
                    throw new InputException($"input file '{doc.DocId}': line {_lineNumber} is not valid JSON: {JsonProblem(e)}");
                }
            }
            _line.Clear();
            _lineNumber++;
        }
    }
}
