using System.Collections;
using System.Globalization;
using System.Text;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// How result pairs are written: "key\tvalue\n", invariant culture; a sequence value (other than a
/// string) as its items joined by ','. Backslash, tab, CR and LF are escaped as \\, \t, \r and \n
/// so every line holds exactly one pair.
/// </summary>
public static class OutputFormat
{
    public static string Line(object? key, object? value) => $"{Escape(Text(key))}\t{Escape(Text(value))}";

    public static string Text(object? value) => value switch
    {
        null => "",
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable items => string.Join(",", items.Cast<object?>().Select(Text)),
        _ => value.ToString() ?? "",
    };

    public static string Escape(string text)
    {
        if (text.AsSpan().IndexOfAny("\\\t\r\n") < 0) return text;
        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '\\' => "\\\\",
                '\t' => "\\t",
                '\r' => "\\r",
                '\n' => "\\n",
                _ => c.ToString(),
            });
        }
        return builder.ToString();
    }
}
