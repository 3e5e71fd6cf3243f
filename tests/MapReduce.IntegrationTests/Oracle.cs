using System.Text.RegularExpressions;

namespace MapReduce.IntegrationTests;

/// <summary>The expected answers, computed here without any of the framework's code.</summary>
public static partial class Oracle
{
    [GeneratedRegex(@"\p{L}+")]
    private static partial Regex Word();

    private static IEnumerable<(string DocId, string Text)> Documents(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => (Path.GetRelativePath(folder, f).Replace('\\', '/'), File.ReadAllText(f)));

    public static SortedSet<string> WordCount(string folder) => WordCount(Documents(folder));

    /// <summary>Word counts of documents given as text (for input the framework reads otherwise: gzip, another encoding).</summary>
    public static SortedSet<string> WordCount(IEnumerable<(string DocId, string Text)> documents) =>
        new(documents
            .SelectMany(d => Word().Matches(d.Text).Select(m => m.Value))
            .GroupBy(w => w, StringComparer.Ordinal)
            .Select(g => $"{g.Key}\t{g.Count()}"), StringComparer.Ordinal);

    public static SortedSet<string> InvertedIndex(string folder) => InvertedIndex(Documents(folder));

    /// <summary>The inverted index of documents given with their ids and text.</summary>
    public static SortedSet<string> InvertedIndex(IEnumerable<(string DocId, string Text)> documents) =>
        new(documents
            .SelectMany(d => Word().Matches(d.Text).Select(m => (Word: m.Value, d.DocId)))
            .GroupBy(x => x.Word, StringComparer.Ordinal)
            .Select(g =>
            {
                var docs = g.Select(x => x.DocId).Distinct().Order(StringComparer.Ordinal).ToList();
                return $"{g.Key}\t{docs.Count} {string.Join(",", docs)}";
            }), StringComparer.Ordinal);

    /// <summary>
    /// Reads an output folder and checks the output contract: exactly part-00000..part-(R-1), keys
    /// ordinal-sorted within each part, every key in exactly one part. Returns all lines.
    /// </summary>
    public static SortedSet<string> ReadParts(string outputFolder, int reducers)
    {
        var parts = Directory.EnumerateFiles(outputFolder, "part-*").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Enumerable.Range(0, reducers).Select(i => $"part-{i:D5}"), parts);
        var all = new SortedSet<string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            var lines = File.ReadAllLines(Path.Combine(outputFolder, part!));
            var partKeys = lines.Select(l => l[..l.IndexOf('\t')]).ToList();
            Assert.Equal(partKeys.Order(StringComparer.Ordinal), partKeys);
            foreach (var key in partKeys) Assert.True(keys.Add(key), $"key '{key}' appears in more than one place");
            all.UnionWith(lines);
        }
        return all;
    }
}
