// Distributed grep, as in the MapReduce paper: Map emits each line that matches a pattern, Reduce
// copies them to the output. Each output line is `DOCUMENT:LINE`, as `grep -r` prints it: the
// documents in key order within a part, each document's lines in the order of the file.
// The pattern is the constant below (a .NET regular expression): a job takes no arguments, so edit
// it and submit again (the code is stored once per content, so each pattern is its own code id).
// No line numbers: Map sees one chunk of a file at a time and not where the chunk starts in it.

const string Pattern = @"\bWatson\b";

var Matcher = new Regex(Pattern, RegexOptions.CultureInvariant);

IEnumerable<(string, string)> Map(string docId, string chunk)
{
    for (var start = 0; start < chunk.Length;)
    {
        var end = chunk.IndexOf('\n', start);
        if (end < 0) end = chunk.Length;
        var line = chunk.Substring(start, end - start).TrimEnd('\r');
        if (Matcher.IsMatch(line))
        {
            Count("matching-lines");
            yield return (docId, line);
        }
        start = end + 1;
    }
}

// Values come in the order the map tasks ran and each yielded them: a file's chunks in order.
IEnumerable<string> ReduceLines(string docId, IEnumerable<string> lines)
{
    foreach (var line in lines) yield return $"{docId}:{line}";
}
