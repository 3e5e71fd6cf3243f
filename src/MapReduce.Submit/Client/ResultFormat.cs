using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MapReduce.Storage.Chunking;

namespace MapReduce.Submit.Client;

/// <summary>How downloaded result parts are written (<c>--output-format</c>).</summary>
public enum ResultFormat { Tsv, JsonLines, Csv }

/// <summary>
/// Writes a result part, stored as reducers write it (<c>key&lt;TAB&gt;value</c> lines, tab, line
/// breaks and backslash escaped), in the format asked for when it is downloaded; the stored result
/// stays as it is, so a job over it (<c>--data-id result-…</c>) reads the same lines whatever was
/// downloaded. A line is split at its first tab (the key's own tabs are escaped); a line without
/// one is a key with an empty value. JSON lines: <c>{"key":"…","value":…}</c>, the key a string,
/// the value a number when its text is a JSON number, else a string. CSV: a <c>key,value</c>
/// header, then a row per pair, quoted as RFC 4180 says.
/// </summary>
public static partial class ResultFormats
{
    public static readonly IReadOnlyList<string> Names = ["tsv", "jsonl", "csv"];

    public static ResultFormat Parse(string? name) => name?.ToLowerInvariant() switch
    {
        null or "tsv" => ResultFormat.Tsv,
        "jsonl" => ResultFormat.JsonLines,
        "csv" => ResultFormat.Csv,
        _ => throw new InputException($"--output-format must be one of {string.Join(", ", Names)}, not '{name}'"),
    };

    /// <summary>A part's file name: <c>part-00000</c>, with <c>.jsonl</c> or <c>.csv</c> for those formats.</summary>
    public static string FileName(string partName, ResultFormat format) => format switch
    {
        ResultFormat.JsonLines => partName + ".jsonl",
        ResultFormat.Csv => partName + ".csv",
        _ => partName,
    };

    /// <summary>Rewrites the tsv part <paramref name="tsvPath"/> as <paramref name="format"/> into <paramref name="target"/>.</summary>
    public static void Convert(string tsvPath, string target, ResultFormat format)
    {
        using var input = new StreamReader(tsvPath, new UTF8Encoding(false, true));
        using var output = new StreamWriter(target, false, new UTF8Encoding(false)) { NewLine = "\n" };
        if (format == ResultFormat.Csv) output.WriteLine("key,value");
        using var json = format == ResultFormat.JsonLines ? new Utf8JsonWriter(output.BaseStream) : null;
        while (input.ReadLine() is { } line)
        {
            var tab = line.IndexOf('\t');
            var key = Unescape(tab < 0 ? line : line[..tab]);
            var value = tab < 0 ? "" : Unescape(line[(tab + 1)..]);
            if (json is not null)
            {
                output.Flush();
                json.Reset();
                json.WriteStartObject();
                json.WriteString("key", key);
                if (IsJsonNumber(value)) json.WriteNumber("value", decimal.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture));
                else json.WriteString("value", value);
                json.WriteEndObject();
                json.Flush();
                output.Write('\n');
            }
            else output.WriteLine($"{CsvField(key)},{CsvField(value)}");
        }
    }

    /// <summary>Undoes the reducers' escapes: \\, \t, \r and \n.</summary>
    public static string Unescape(string text)
    {
        if (!text.Contains('\\')) return text;
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\' || i + 1 == text.Length)
            {
                builder.Append(text[i]);
                continue;
            }
            builder.Append(text[++i] switch { 't' => '\t', 'r' => '\r', 'n' => '\n', var c => c });
        }
        return builder.ToString();
    }

    /// <summary>A CSV field, quoted when it holds a comma, quote, line break or edge space, its quotes doubled.</summary>
    public static string CsvField(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") < 0 && text.Trim() == text ? text : $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    /// <summary>Whether the text is a JSON number as JSON writes one (so "007" or "1e999" stay strings), within decimal's range.</summary>
    private static bool IsJsonNumber(string text) =>
        text.Length <= 30 && JsonNumber().IsMatch(text) && decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")]
    private static partial Regex JsonNumber();
}
