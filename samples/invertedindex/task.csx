// Inverted index: for each word, the documents it occurs in (sorted, comma-separated).
// Uses the whole-partition Reducer form.

IEnumerable<(string, string)> Map(string docId, string chunk)
{
    var seen = new HashSet<string>(StringComparer.Ordinal);
    var start = -1;
    for (var i = 0; i <= chunk.Length; i++)
    {
        var isLetter = i < chunk.Length && char.IsLetter(chunk[i]);
        if (isLetter && start < 0) start = i;
        else if (!isLetter && start >= 0)
        {
            var word = chunk.Substring(start, i - start);
            if (seen.Add(word)) yield return (word, docId);
            start = -1;
        }
    }
}

IEnumerable<(string, string)> Reducer(IDictionary<string, List<string>> keyValues)
{
    foreach (var (word, docs) in keyValues)
    {
        var distinct = docs.Distinct(StringComparer.Ordinal).OrderBy(d => d, StringComparer.Ordinal).ToList();
        yield return (word, $"{distinct.Count} {string.Join(",", distinct)}");
    }
}
