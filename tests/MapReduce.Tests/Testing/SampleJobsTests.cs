using System.Globalization;
using CsvHelper;
using MapReduce.Storage.Chunking;
using System.Text.RegularExpressions;
using MapReduce.Actors.UserCode;
using MapReduce.Testing;
using MapReduce.Tests.Deploy;

namespace MapReduce.Tests.Testing;

/// <summary>
/// The samples grep, join, topk and pagerank through the in-process harness, each against an answer
/// computed here from the input another way (word splitting, a LINQ join, a sort, PageRank in memory);
/// topk and pagerank chained as the cluster chains them, the next job's documents being the parts.
/// </summary>
public sealed class SampleJobsTests
{
    private static string Samples(params string[] parts) => RepoFiles.Path(["samples", .. parts]);

    private static readonly IReadOnlyList<(string DocId, string Text)> Books = JobHarness.Documents(Samples("data"));

    private static IEnumerable<string> LinesOf(string text) =>
        text.Split('\n').SkipLast(text.EndsWith('\n') ? 1 : 0).Select(l => l.TrimEnd('\r'));

    /// <summary>A result's parts as the next job reads them from its dataset result-JOB: one document per part.</summary>
    private static IReadOnlyList<(string DocId, string Text)> AsDataset(HarnessResult result) =>
        [.. result.Parts.Select((text, p) => ($"part-{p:00000}", text))];

    [Fact]
    public void Grep_writes_each_matching_line_with_its_document_in_file_order_even_across_chunks()
    {
        // Blocks of 64 KiB: the long books are several chunks, so several map tasks feed one document's lines.
        var result = JobHarness.RunScript(Samples("grep"), Books, new HarnessOptions { Reducers = 2, BlockSize = 64 * 1024 });
        // The sample's pattern is \bWatson\b: the word Watson, as the text's words split at non-word characters.
        var expected = Books.ToDictionary(b => b.DocId, b => LinesOf(b.Text).Where(l => Regex.Split(l, @"\W+").Contains("Watson")).ToList())
            .Where(kv => kv.Value.Count > 0).ToDictionary();
        Assert.Equal(["pg-huckleberry_finn.txt", "pg-sherlock_holmes.txt"], expected.Keys.Order(StringComparer.Ordinal));

        var seen = new HashSet<string>();
        for (var p = 0; p < result.Parts.Count; p++)
        {
            var lines = result.Lines(p);
            var docs = lines.Select(l => l[..l.IndexOf(':')]).Distinct().ToList();
            Assert.All(docs, d => Assert.True(seen.Add(d), $"{d} is in two parts"));
            Assert.Equal(docs.Order(StringComparer.Ordinal).SelectMany(d => expected[d].Select(l => $"{d}:{l}")), lines);
        }
        Assert.Equal(expected.Keys.Order(), seen.Order());
        Assert.Equal(expected.Values.Sum(v => v.Count), result.Counter("user.matching-lines"));
    }

    [Fact]
    public void Join_pairs_each_order_with_its_user_and_counts_what_has_no_partner()
    {
        var users = Samples("join-data", "users");
        var orders = Samples("join-data", "orders");
        var documents = JobHarness.Documents(users, orders);
        Assert.Contains(documents, d => d.DocId == "orders/orders-1.tsv"); // what -d gives with two folders
        var result = JobHarness.RunScript(Samples("join"), documents, new HarnessOptions { Reducers = 3 });

        var userRows = Directory.GetFiles(users).SelectMany(f => File.ReadAllLines(f)).Select(l => l.Split('\t')).ToList();
        var orderRows = Directory.GetFiles(orders).SelectMany(f => File.ReadAllLines(f)).Select(l => l.Split('\t')).ToList();
        var expected = from o in orderRows
                       join u in userRows on o[1] equals u[0]
                       select string.Join('\t', u[0], u[1], u[2], o[0], o[2], o[3]);
        Assert.Equal(expected.Order(StringComparer.Ordinal), result.AllLines.Order(StringComparer.Ordinal));
        // Each user's lines in one part, parts sorted by user id.
        for (var p = 0; p < result.Parts.Count; p++)
        {
            var ids = result.Lines(p).Select(l => l.Split('\t')[0]).ToList();
            Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        }
        var unmatchedOrders = orderRows.Count(o => userRows.All(u => u[0] != o[1]));
        var idleUsers = userRows.Count(u => orderRows.All(o => o[1] != u[0]));
        Assert.True(unmatchedOrders > 0 && idleUsers > 0, "the sample data has both kinds of rows without a partner");
        Assert.Equal(unmatchedOrders, result.Counter("user.orders-without-user"));
        Assert.Equal(idleUsers, result.Counter("user.users-without-orders"));
        Assert.Equal(0, result.Counter("user.bad-lines"));
    }

    [Fact]
    public void Join_refuses_a_document_of_neither_side_naming_it()
    {
        var e = Assert.Throws<UserCodeException>(() => JobHarness.RunScript(Samples("join"), [("customers.tsv", "u1\tAda\tUK\n")]));
        Assert.Contains("document customers.tsv is in neither a users nor an orders folder", e.Message);
    }

    [Fact]
    public void Top_k_over_word_counts_result_gives_the_20_most_frequent_words_in_part_0()
    {
        var counts = JobHarness.RunScript(Samples("wordcount"), Books, new HarnessOptions { Reducers = 4 });
        // Blocks of 16 KiB: many map tasks, each combining its words down to 20 before the shuffle.
        var top = JobHarness.RunScript(Samples("topk"), AsDataset(counts), new HarnessOptions { Reducers = 3, BlockSize = 16 * 1024 });

        var expected = Books.SelectMany(b => Regex.Matches(b.Text, @"\p{L}+").Select(m => m.Value))
            .GroupBy(w => w, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(20).Select(g => $"{g.Key}\t{g.Count()}");
        Assert.Equal(expected, top.Lines(0));
        Assert.Empty(top.Parts[1]);
        Assert.Empty(top.Parts[2]);
        Assert.Equal(counts.AllLines.Count, top.Counter("map.output.pairs"));
        Assert.Equal(1, top.Counter("reduce.groups"));
    }

    [Fact]
    public void Top_k_orders_equal_counts_by_word_and_skips_lines_that_are_not_key_and_number()
    {
        var top = JobHarness.RunScript(Samples("topk"), [("part-00000", "b\t5\nthe end\na\t5\nc\t7\n"), ("part-00001", "d\tx\n")], new HarnessOptions { Reducers = 1 });
        Assert.Equal(["c\t7", "a\t5", "b\t5"], top.Lines(0));
        Assert.Equal(2, top.Counter("user.bad-lines"));
    }

    /// <summary>PageRank the plain way: every page's rank at once, from the graph's adjacency lists.</summary>
    private static Dictionary<string, double> PageRankInMemory(IReadOnlyDictionary<string, string[]> graph, int iterations)
    {
        var pages = graph.Keys.Concat(graph.Values.SelectMany(l => l)).Distinct().ToList();
        var rank = pages.ToDictionary(p => p, _ => 1.0);
        for (var i = 0; i < iterations; i++)
        {
            var next = pages.ToDictionary(p => p, _ => 0.0);
            foreach (var (page, links) in graph)
                foreach (var target in links) next[target] += rank[page] / links.Length;
            rank = next.ToDictionary(kv => kv.Key, kv => 0.15 + 0.85 * kv.Value);
        }
        return rank;
    }

    private static void AssertRanks(IReadOnlyDictionary<string, string[]> graph, HarnessResult result, int iterations)
    {
        var expected = PageRankInMemory(graph, iterations);
        var lines = result.AllLines.Select(l => l.Split('\t')).ToList();
        Assert.All(lines, f => Assert.Equal(3, f.Length));
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), lines.Select(f => f[0]).Order(StringComparer.Ordinal));
        foreach (var f in lines)
        {
            // Equal up to the order the shares were added in.
            Assert.True(Math.Abs(expected[f[0]] - double.Parse(f[1], CultureInfo.InvariantCulture)) < 1e-12, $"{f[0]}: {f[1]}, expected {expected[f[0]]:R}");
            Assert.Equal(graph.GetValueOrDefault(f[0], Array.Empty<string>()), f[2].Split(',', StringSplitOptions.RemoveEmptyEntries));
        }
    }

    [Fact]
    public void PageRank_iterations_chained_over_each_result_give_the_ranks_computed_in_memory()
    {
        var graphFolder = Samples("pagerank-data");
        var graph = File.ReadAllLines(Path.Combine(graphFolder, "graph.txt")).Select(l => l.Split('\t'))
            .ToDictionary(f => f[0], f => f[1].Split(',', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(graph, kv => kv.Value.Length == 0); // a page without out-links loses its rank
        Assert.Contains(graph.Keys, p => !graph.Values.Any(l => l.Contains(p))); // a page nothing links to

        var result = JobHarness.RunScript(Samples("pagerank"), JobHarness.Documents(graphFolder), new HarnessOptions { Reducers = 2 });
        AssertRanks(graph, result, 1);
        for (var i = 2; i <= 3; i++)
            result = JobHarness.RunScript(Samples("pagerank"), AsDataset(result), new HarnessOptions { Reducers = 2 });
        AssertRanks(graph, result, 3);
    }

    [Fact]
    public void PageRank_gives_a_page_that_is_only_linked_to_a_line_without_links()
    {
        var graph = new Dictionary<string, string[]> { ["a"] = ["b", "c"], ["b"] = ["c"] };
        var result = JobHarness.RunScript(Samples("pagerank"), [("g.txt", "a\tb,c\nb\tc\n\n")], new HarnessOptions { Reducers = 1 });
        AssertRanks(graph, result, 1);
        var c = result.Lines(0)[2].Split('\t');
        Assert.Equal(new[] { "c", "" }, new[] { c[0], c[2] });
        Assert.Equal(0.15 + 0.85 * (1 / 2.0 + 1), double.Parse(c[1], CultureInfo.InvariantCulture), 12);
    }

    [Fact]
    public void Csv_totals_sums_the_amount_per_category_as_CsvHelper_reads_the_files_across_chunks()
    {
        var documents = JobHarness.Documents(Samples("csv-totals-data"));
        // The answer from CsvHelper's reading of each whole file, by header name.
        var totals = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var bad = 0;
        foreach (var (_, text) in documents)
        {
            using var csv = new CsvReader(new StringReader(text), CultureInfo.InvariantCulture);
            csv.Read();
            csv.ReadHeader();
            while (csv.Read())
            {
                if (!decimal.TryParse(csv.GetField("amount"), NumberStyles.Number, CultureInfo.InvariantCulture, out var amount))
                {
                    bad++;
                    continue;
                }
                totals[csv.GetField("category")!] = totals.GetValueOrDefault(csv.GetField("category")!) + amount;
            }
        }
        Assert.True(documents.Sum(d => d.Text.Split('\n').Length) > totals.Count + 300, "the sample's quoted fields hold line breaks");

        var result = JobHarness.RunScript(Samples("csv-totals"), documents, new HarnessOptions { Reducers = 2, BlockSize = 2048, InputFormat = InputFormat.Csv });

        var pairs = result.Parts.SelectMany(LinesOf).Select(l => l.Split('\t')).ToDictionary(f => f[0], f => decimal.Parse(f[1], CultureInfo.InvariantCulture));
        Assert.Equal(totals.OrderBy(kv => kv.Key, StringComparer.Ordinal), pairs.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(5, pairs.Count);
        Assert.True(bad > 0);
        Assert.Equal(bad, result.Counters["user.bad-amounts"]);
    }
}
