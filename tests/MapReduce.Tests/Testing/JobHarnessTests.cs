using System.Text.RegularExpressions;
using MapReduce.Actors.UserCode;
using MapReduce.Actors.Worker;
using MapReduce.Sdk;
using MapReduce.Testing;
using MapReduce.Tests.Deploy;
using static MapReduce.Sdk.JobFunctions;

namespace MapReduce.Tests.Testing;

/// <summary>
/// The in-process harness on the samples, against answers computed here another way (regular
/// expressions, LINQ, a plain sort), and on job classes of this assembly: counters, spills, TotalOrder, errors.
/// </summary>
public sealed class JobHarnessTests
{
    private static string Samples(string name) => RepoFiles.Path("samples", name);

    private static readonly IReadOnlyList<(string DocId, string Text)> Books = JobHarness.Documents(Samples("data"));

    /// <summary>Word count the independent way: \p{L}+ is a maximal run of letters, as char.IsLetter tells them.</summary>
    private static Dictionary<string, int> WordCounts(IEnumerable<(string DocId, string Text)> docs) =>
        docs.SelectMany(d => Regex.Matches(d.Text, @"\p{L}+").Select(m => m.Value))
            .GroupBy(w => w, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    private static void AssertKeyValueParts(HarnessResult result, IReadOnlyDictionary<string, string> expected)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var p = 0; p < result.Parts.Count; p++)
        {
            var keys = result.Lines(p).Select(l => l.Split('\t')[0]).ToList();
            Assert.Equal(keys.Order(StringComparer.Ordinal), keys); // sorted within a part
            foreach (var line in result.Lines(p))
            {
                var tab = line.IndexOf('\t');
                Assert.True(seen.TryAdd(line[..tab], line[(tab + 1)..]), $"key {line[..tab]} is in two parts");
            }
        }
        Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal), seen.OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("wordcount")]
    [InlineData("wordcount-nocombine")]
    public void Word_count_samples_give_every_words_count_once_in_sorted_parts(string sample)
    {
        var result = JobHarness.RunScript(Samples(sample), Books, new HarnessOptions { Reducers = 4 });
        var expected = WordCounts(Books);
        Assert.Equal(4, result.Parts.Count);
        AssertKeyValueParts(result, expected.ToDictionary(kv => kv.Key, kv => kv.Value.ToString(), StringComparer.Ordinal));
        Assert.Equal(expected.Values.Sum(), result.Counter("map.output.pairs"));
        Assert.Equal(expected.Count, result.Counter("reduce.groups"));
        Assert.Equal(Books.Sum(b => System.Text.Encoding.UTF8.GetByteCount(b.Text)), result.Counter("map.input.bytes"));
        Assert.Equal(Books.Sum(b => b.Text.Split('\n').Length - (b.Text.EndsWith('\n') ? 1 : 0)), result.Counter("map.input.lines"));
        Assert.Equal(sample == "wordcount", result.Counters.ContainsKey("combine.output"));
    }

    [Fact]
    public void Inverted_index_sample_lists_each_words_documents()
    {
        var result = JobHarness.RunScript(Samples("invertedindex"), Books, new HarnessOptions { Reducers = 3 });
        var expected = Books.SelectMany(b => Regex.Matches(b.Text, @"\p{L}+").Select(m => (Word: m.Value, b.DocId)))
            .GroupBy(x => x.Word, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g =>
            {
                var docs = g.Select(x => x.DocId).Distinct().Order(StringComparer.Ordinal).ToList();
                return $"{docs.Count} {string.Join(",", docs)}";
            }, StringComparer.Ordinal);
        AssertKeyValueParts(result, expected);
    }

    [Fact]
    public void Sort_sample_with_three_reducers_samples_key_ranges_and_its_parts_concatenated_are_the_sorted_input()
    {
        var result = JobHarness.RunScript(Samples("sort"), Books, new HarnessOptions { Reducers = 3 });
        var lines = Books.SelectMany(b => b.Text.Split('\n').SkipLast(b.Text.EndsWith('\n') ? 1 : 0)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(lines, result.AllLines);
        // Three ranges, each a real share of the input: the boundaries came from the sample, not from nowhere.
        Assert.All(Enumerable.Range(0, 3), p => Assert.True(result.Lines(p).Count > lines.Count / 10, $"part {p} holds {result.Lines(p).Count} of {lines.Count} lines"));
    }

    [Fact]
    public void A_small_map_buffer_spills_and_gives_the_same_parts()
    {
        var whole = JobHarness.RunScript(Samples("wordcount-nocombine"), Books, new HarnessOptions { Reducers = 2 });
        var spilled = JobHarness.RunScript(Samples("wordcount-nocombine"), Books, new HarnessOptions { Reducers = 2, MapBufferBytes = 1 << 16 });
        Assert.Equal(0, whole.Counter("spilled.pairs"));
        Assert.True(spilled.Counter("spilled.pairs") > 0);
        Assert.Equal(whole.Parts, spilled.Parts);
    }

    /// <summary>Values in the order the merge hands them out: the first words of each length, as map tasks emitted them.</summary>
    [MapReduceJob]
    public sealed class FirstWordsByLength
    {
        public IEnumerable<(int Length, string Word)> Map(string docId, string chunk) =>
            Regex.Matches(chunk, @"\p{L}+").Select(word => (word.Length, word.Value));

        public IEnumerable<string> ReduceLines(int length, IEnumerable<string> words) => [$"{length}:{string.Join(",", words.Take(40))}"];
    }

    [Fact]
    public void Runs_merged_in_passes_past_the_merge_factor_give_the_same_parts_with_values_in_the_same_order()
    {
        // 64 KiB blocks: about 50 map tasks, so about 50 runs a partition, merged two at a time.
        var options = new HarnessOptions { Reducers = 2, BlockSize = 1 << 16 };
        var onePass = JobHarness.Run<FirstWordsByLength>(Books, options);
        var inPasses = JobHarness.Run<FirstWordsByLength>(Books, options with { MergeFactor = 2 });

        Assert.True(Books.Sum(b => System.Text.Encoding.UTF8.GetByteCount(b.Text)) > 20 * options.BlockSize, "enough map tasks for several passes");
        Assert.Equal(onePass.Parts, inPasses.Parts);
        // Independently: each length's first 40 words in input order (documents, then position).
        var expected = Books.SelectMany(b => Regex.Matches(b.Text, @"\p{L}+").Select(m => m.Value)).GroupBy(w => w.Length)
            .ToDictionary(g => g.Key.ToString(), g => string.Join(",", g.Take(40)));
        var actual = inPasses.Parts.SelectMany((_, p) => inPasses.Lines(p)).Select(l => l.Split(':', 2)).ToDictionary(l => l[0], l => l[1]);
        Assert.Equal(expected.OrderBy(kv => kv.Key), actual.OrderBy(kv => kv.Key));
    }

    [MapReduceJob]
    public sealed class LongWords
    {
        public IEnumerable<(int Length, string Word)> Map(string docId, string chunk)
        {
            foreach (Match word in Regex.Matches(chunk, @"\p{L}+"))
            {
                if (word.Length > 3) Count("long-words");
                yield return (word.Length, word.Value.ToLowerInvariant());
            }
        }

        public int Partition(int length, int reducers) => TotalOrder(length, reducers);

        public IEnumerable<string> ReduceLines(int length, IEnumerable<string> words)
        {
            Console.WriteLine($"length {length}");
            yield return $"{length}:{string.Join(",", words.Distinct().Order(StringComparer.Ordinal))}";
        }
    }

    [Fact]
    public void A_job_class_counts_prints_and_partitions_in_a_total_order()
    {
        var docs = new[] { ("a.txt", "The cat sat\non the mat\n"), ("b/c.txt", "A catalogue of cats") };
        var result = JobHarness.Run<LongWords>(docs, new HarnessOptions { Reducers = 2 });
        // Keys sorted within parts, and part 0's range below part 1's: the whole output in key order.
        Assert.Equal(["1:a", "2:of,on", "3:cat,mat,sat,the", "4:cats", "9:catalogue"], result.AllLines);
        Assert.All(result.Parts, part => Assert.NotEmpty(part));
        Assert.Equal(2, result.Counter("user.long-words"));
        Assert.Contains("length 9\n", result.Log);
    }

    public sealed class Summed : IMapper<string, long>, IReducer<string, long, long>
    {
        IEnumerable<(string Key, long Value)> IMapper<string, long>.Map(string docId, string chunk) => chunk.Split(' ').Select(w => (w, 1L));
        long IReducer<string, long, long>.Reduce(string key, IEnumerable<long> values) => values.Sum();
    }

    [Fact]
    public void Functions_implemented_explicitly_through_the_interfaces_are_found()
    {
        var result = JobHarness.Run<Summed>([("d", "x y x")], new HarnessOptions { Reducers = 1 });
        Assert.Equal(["x\t2", "y\t1"], result.Lines(0));
    }

    [MapReduceJob]
    public sealed class NoReduce
    {
        public IEnumerable<(string, int)> Map(string docId, string chunk) => [];
        public int Reduce(string key, IEnumerable<long> values) => 0;
    }

    [MapReduceJob]
    public sealed class Throws
    {
        public IEnumerable<(string, int)> Map(string docId, string chunk) => throw new FormatException("bad row");
        public int Reduce(string key, IEnumerable<int> values) => 0;
    }

    [Fact]
    public void A_class_without_the_functions_names_the_signature_expected_and_what_Map_throws_names_the_chunk()
    {
        var e = Assert.Throws<CompileErrorException>(() => JobHarness.Run<NoReduce>([("d", "x")]));
        Assert.Equal("NoReduce (MapReduce.Tests.dll): Reduce must have the signature TResult Reduce(TKey key, IEnumerable<TValue> values) with TKey = String and TValue = Int32 as Map yields; found Int32 Reduce(String key, IEnumerable<Int64> values)", e.Message);
        var thrown = Assert.Throws<UserCodeException>(() => JobHarness.Run<Throws>([("a/b.txt", "x\n")], new HarnessOptions { Reducers = 1 }));
        Assert.Equal("Map threw on document 'a/b.txt', chunk 0: FormatException: bad row", thrown.Message);
        var notJob = Assert.Throws<CompileErrorException>(() => JobHarness.Run<JobHarnessTests>([("d", "x")]));
        Assert.Equal("JobHarnessTests (MapReduce.Tests.dll) is not a job class: mark it with [MapReduceJob] (or implement IMapper<TKey, TValue>)", notJob.Message);
    }

    [Fact]
    public void Key_samples_read_whole_lines_of_each_chunks_head_spread_over_the_input()
    {
        Assert.Equal([0, 1, 2], KeyRangeSampler.Spread([0, 1, 2], 64));
        Assert.Equal([0, 25, 50, 75], KeyRangeSampler.Spread(Enumerable.Range(0, 100).ToList(), 4));
        Assert.Equal("a\nb", KeyRangeSampler.HeadText("a\nb"u8)); // a whole short chunk
        var head = new byte[KeyRangeSampler.SliceBytes + 10];
        Array.Fill(head, (byte)'x');
        head[100] = (byte)'\n';
        Assert.Equal(new string('x', 100) + "\n", KeyRangeSampler.HeadText(head)); // cut back to the last whole line
    }
}
