using System.Text;

namespace MapReduce.Storage.Chunking;

/// <summary>One CSV record: its fields, unquoted, and the line it starts on (counted from the text's first line).</summary>
public readonly record struct CsvRecord(string[] Fields, long Line);

/// <summary>
/// Reads the records of CSV text by the rules of <see cref="CsvSyntax"/>: fields split at commas
/// outside quotes, a quoted field's quotes removed and its doubled quotes made one, a record ended
/// by "\n" or "\r\n" outside quotes. A blank line is no record (as CsvHelper skips it). A misplaced
/// or unclosed quote throws <see cref="CsvSyntaxException"/> with its line.
/// </summary>
public static class CsvRecords
{
    public static IEnumerable<CsvRecord> Read(TextReader text, long firstLine = 1)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        long line = firstLine, recordLine = firstLine, quoteLine = 0;
        bool quoted = false, afterQuote = false, fieldStarted = false;
        int c;
        while ((c = text.Read()) >= 0)
        {
            if (quoted)
            {
                if (c == '"')
                {
                    if (text.Peek() == '"')
                    {
                        text.Read();
                        field.Append('"');
                    }
                    else
                    {
                        quoted = false;
                        afterQuote = true;
                    }
                }
                else
                {
                    if (c == '\n') line++;
                    field.Append((char)c);
                }
                continue;
            }
            switch (c)
            {
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    afterQuote = false;
                    fieldStarted = true;
                    break;
                case '\n':
                    if (fields.Count > 0 || fieldStarted || field.Length > 0) yield return new CsvRecord(EndRecord(), recordLine);
                    line++;
                    recordLine = line;
                    break;
                case '\r' when text.Peek() == '\n':
                    break;
                case '"':
                    if (afterQuote) throw new CsvSyntaxException(line, "text after the closing quote of a quoted field (double the quotes inside it)");
                    if (field.Length > 0) throw new CsvSyntaxException(line, "a quote inside an unquoted field (quote the whole field, and double the quotes in it)");
                    quoted = true;
                    fieldStarted = true;
                    quoteLine = line;
                    break;
                default:
                    if (afterQuote) throw new CsvSyntaxException(line, "text after the closing quote of a quoted field (double the quotes inside it)");
                    field.Append((char)c);
                    break;
            }
        }
        if (quoted) throw new CsvSyntaxException(quoteLine, "a quoted field starts here and its closing quote is missing");
        if (fields.Count > 0 || fieldStarted || field.Length > 0) yield return new CsvRecord(EndRecord(), recordLine);

        string[] EndRecord()
        {
            fields.Add(field.ToString());
            field.Clear();
            var record = fields.ToArray();
            fields.Clear();
            afterQuote = false;
            fieldStarted = false;
            return record;
        }
    }
}
