using MapReduce.Storage.Records;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Storage;

public class MapOutputBufferTests
{
    /// <summary>5,000 pairs over 613 distinct words: the grouping table's case.</summary>
    private static readonly string[] Words = Enumerable.Range(0, 5000).Select(i => $"w{i * 7919 % 613}").ToArray();

    /// <summary>5,000 pairs, nearly all keys distinct: the arena's case.</summary>
    private static readonly string[] Lines = Enumerable.Range(0, 5000).Select(i => $"line {i * 7919 % 4999:D5} {new string('x', i % 13)}").ToArray();

    private static Func<string, int> Hash(int partitions) => new Partitioner<string>(partitions).PartitionOf;

    private static MapOutputBuffer<string, int> Buffer(int partitions, long limit, string folder, Func<string, IEnumerable<int>, int>? combine = null, bool compress = false) =>
        new(partitions, Hash(partitions), combine, limit, folder, compress);

    /// <summary>Pairs for a test of the arena: more than it takes to decide, most keys distinct.</summary>
    private static IEnumerable<(string Key, int Value)> ManyDistinct(int count) =>
        Enumerable.Range(0, count).Select(i => ($"k{(i * 7919L) % count:D6}{(i % 10 == 0 ? "" : "-" + i % 3)}", i));

    [Theory]
    [InlineData(64L << 20, false)] // everything in memory
    [InlineData(4_000, false)]     // dozens of spills merged at the end
    [InlineData(4_000, true)]      // the same in LZ4 frames
    public void Without_combine_every_pair_comes_out_sorted_and_equal_keys_keep_emission_order(long limit, bool compress)
    {
        using var folder = new TempFolder();
        var buffer = Buffer(3, limit, folder.Path, compress: compress);
        for (var i = 0; i < Words.Length; i++) buffer.Add(Words[i], i);
        var runs = Runs.WriteAll(buffer, 3);

        var partitioner = new Partitioner<string>(3);
        for (var p = 0; p < 3; p++)
        {
            var expected = Words.Select((w, i) => new KeyValuePair<string, int>(w, i))
                .Where(kv => partitioner.PartitionOf(kv.Key) == p)
                .OrderBy(kv => kv.Key, StringComparer.Ordinal).ThenBy(kv => kv.Value).ToList();
            Assert.Equal(expected, runs[p]);
        }
        Assert.Equal(limit < 100_000, buffer.Spills > 0);
        Assert.False(buffer.Serialized); // 613 distinct keys in 5,000 pairs: grouping pays
        Assert.Empty(Directory.GetFiles(folder.Path)); // spill files are deleted once merged
    }

    [Theory]
    [InlineData(64L << 20, false)]
    [InlineData(100_000, false)]
    [InlineData(100_000, true)]
    public void Mostly_distinct_keys_move_to_the_arena_and_come_out_in_the_same_order(long limit, bool compress)
    {
        using var folder = new TempFolder();
        var pairs = ManyDistinct(MapOutputBuffer<string, int>.DecideAfter * 2).ToList();
        var buffer = Buffer(4, limit, folder.Path, compress: compress);
        foreach (var (key, value) in pairs) buffer.Add(key, value);
        Assert.True(buffer.Serialized);
        var runs = Runs.WriteAll(buffer, 4);

        var partitioner = new Partitioner<string>(4);
        for (var p = 0; p < 4; p++)
        {
            var expected = pairs.Where(kv => partitioner.PartitionOf(kv.Key) == p)
                .OrderBy(kv => kv.Key, StringComparer.Ordinal).ThenBy(kv => kv.Value)
                .Select(kv => new KeyValuePair<string, int>(kv.Key, kv.Value)).ToList();
            Assert.Equal(expected, runs[p]);
        }
        Assert.Equal(limit < 1_000_000, buffer.Spills > 0);
    }

    [Theory]
    [InlineData(64L << 20, false)]
    [InlineData(2_000, false)]
    [InlineData(2_000, true)]
    public void With_combine_each_key_comes_out_once_with_the_exact_total(long limit, bool compress)
    {
        using var folder = new TempFolder();
        var buffer = Buffer(2, limit, folder.Path, (_, values) => values.Sum(), compress);
        foreach (var word in Words) buffer.Add(word, 1);
        var runs = Runs.WriteAll(buffer, 2);

        var expected = Words.GroupBy(w => w).ToDictionary(g => g.Key, g => g.Count());
        var actual = runs.SelectMany(r => r).ToList();
        Assert.Equal(expected.Count, actual.Count);
        Assert.All(actual, kv => Assert.Equal(expected[kv.Key], kv.Value));
        Assert.All(runs, r => Assert.Equal(r.Select(kv => kv.Key).Order(StringComparer.Ordinal), r.Select(kv => kv.Key)));
        Assert.Equal(limit < 100_000, buffer.Spills > 0);
    }

    [Theory]
    [InlineData(64L << 20, true)] // keys kept from task to task
    [InlineData(64L << 20, false)]
    [InlineData(3_000, true)]     // spills
    [InlineData(3_000, false)]
    public void A_reused_buffer_holds_only_the_next_tasks_pairs(long limit, bool combine)
    {
        using var folder = new TempFolder();
        var buffer = Buffer(2, limit, folder.Path, combine ? (_, values) => values.Sum() : null);
        // A first task that fails half way (its pairs must not leak), then two tasks that overlap in words.
        var tasks = new[] { Words[..2000], Words[1000..3000], Words[2500..] };
        foreach (var word in tasks[0]) buffer.Add(word, 100);
        for (var t = 1; t < tasks.Length; t++)
        {
            var spills = Directory.CreateDirectory(Path.Combine(folder.Path, $"task-{t}")).FullName;
            buffer.Reset(spills);
            foreach (var word in tasks[t]) buffer.Add(word, 1);
            var actual = Runs.WriteAll(buffer, 2).SelectMany(r => r).OrderBy(kv => kv.Key, StringComparer.Ordinal).ThenBy(kv => kv.Value).ToList();

            var expected = combine
                ? tasks[t].GroupBy(w => w).Select(g => new KeyValuePair<string, int>(g.Key, g.Count()))
                : tasks[t].Select(w => new KeyValuePair<string, int>(w, 1));
            Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal).ThenBy(kv => kv.Value), actual);
            Assert.Equal(limit < 100_000, buffer.Spills > 0);
            Assert.Empty(Directory.GetFiles(spills));
        }
    }

    [Fact]
    public void A_reused_arena_buffer_starts_the_next_task_in_the_arena_and_leaks_nothing()
    {
        using var folder = new TempFolder();
        var buffer = Buffer(2, 64L << 20, folder.Path);
        foreach (var (key, value) in ManyDistinct(MapOutputBuffer<string, int>.DecideAfter * 2)) buffer.Add(key, value);
        Assert.True(buffer.Serialized);
        buffer.Reset(folder.Path);
        buffer.Add("b", 2);
        buffer.Add("a", 1);
        buffer.Add("b", 3);
        Assert.True(buffer.Serialized);
        Assert.Equal([new("a", 1), new("b", 2), new("b", 3)], Runs.WriteAll(buffer, 2).SelectMany(r => r).OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void A_few_huge_values_are_spilled_as_they_come_so_memory_stays_near_the_limit()
    {
        using var folder = new TempFolder();
        const long limit = 1 << 20;
        var buffer = new MapOutputBuffer<string, string>(2, new Partitioner<string>(2).PartitionOf, null, limit, folder.Path);
        var values = Enumerable.Range(0, 12).Select(i => new string((char)('a' + i), 600_000 + i)).ToList();
        long peak = 0;
        foreach (var (value, i) in values.Select((v, i) => (v, i)))
        {
            buffer.Add(i % 3 == 0 ? "same" : $"key{i}", value);
            peak = Math.Max(peak, buffer.Bytes);
        }
        Assert.InRange(peak, 0, limit + 2 * 600_100); // never more than the limit and one value (UTF-16 in memory)
        Assert.True(buffer.Spills >= 5, $"{buffer.Spills} spills");
        var streams = new Dictionary<int, MemoryStream>();
        buffer.WriteRuns(p => streams[p] = new MemoryStream());
        var read = streams.Values.SelectMany(s => Runs.Read<string, string>(new MemoryStream(s.ToArray()))).ToList();
        Assert.Equal(values.Select((v, i) => (i % 3 == 0 ? "same" : $"key{i}", v)).OrderBy(p => p.Item1, StringComparer.Ordinal).ThenBy(p => p.v.Length),
            read.Select(kv => (kv.Key, kv.Value)).OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value.Length));
    }

    [Fact]
    public void Keys_sort_in_ordinal_order_also_past_the_basic_plane_in_both_modes()
    {
        // UTF-16 order puts surrogate pairs (U+10000 and above) before U+E000..U+FFFF; plain UTF-8 would not.
        var keys = new[] { "\uFFFF", "\U0001F600", "a", "\uE000", "\u00E9", "", "\U00010000b", "z\uFFFD", "z\U0001F600" };
        foreach (var distinct in new[] { false, true })
        {
            using var folder = new TempFolder();
            var buffer = Buffer(1, 64L << 20, folder.Path);
            // Enough filler to make the buffer choose the arena when distinct.
            var filler = distinct ? ManyDistinct(MapOutputBuffer<string, int>.DecideAfter * 2).Select(p => p.Key) : Enumerable.Repeat("zzz", 20_000);
            foreach (var key in keys.Concat(filler)) buffer.Add(key, 0);
            Assert.Equal(distinct, buffer.Serialized);
            var order = Runs.WriteAll(buffer, 1)[0].Select(kv => kv.Key).Distinct().ToList();
            Assert.Equal(order.Order(StringComparer.Ordinal), order);
            Assert.Equal(keys.Order(StringComparer.Ordinal).ToList(), order.Where(keys.Contains).ToList());
        }
    }

    [Fact]
    public void Many_keys_sharing_long_prefixes_and_repeats_sort_exactly_in_the_arena()
    {
        using var folder = new TempFolder();
        var random = new Random(17);
        // Keys that tie on their 8-byte prefix, differ in length, and repeat: every branch of the sort's comparison.
        var keys = Enumerable.Range(0, 60_000).Select(_ => "prefix--" + new string((char)('a' + random.Next(3)), random.Next(0, 4)) + random.Next(40_000)).ToList();
        var buffer = Buffer(3, 64L << 20, folder.Path);
        for (var i = 0; i < keys.Count; i++) buffer.Add(keys[i], i);
        Assert.True(buffer.Serialized);
        var runs = Runs.WriteAll(buffer, 3);
        var partitioner = new Partitioner<string>(3);
        for (var p = 0; p < 3; p++)
        {
            var expected = keys.Select((k, i) => new KeyValuePair<string, int>(k, i)).Where(kv => partitioner.PartitionOf(kv.Key) == p)
                .OrderBy(kv => kv.Key, StringComparer.Ordinal).ThenBy(kv => kv.Value).ToList();
            Assert.Equal(expected, runs[p]);
        }
    }

    [Theory]
    [InlineData(64L << 20)]
    [InlineData(2_000)]
    public void Keys_that_are_not_compared_as_bytes_come_out_in_their_own_order(long limit)
    {
        using var folder = new TempFolder();
        var pairs = Enumerable.Range(0, 3000).Select(i => ((-i % 7, $"w{i % 11}"), i)).ToList();
        var buffer = new MapOutputBuffer<(int, string), int>(2, new Partitioner<(int, string)>(2).PartitionOf, null, limit, folder.Path);
        foreach (var (key, value) in pairs) buffer.Add(key, value);
        var streams = new Dictionary<int, MemoryStream>();
        buffer.WriteRuns(p => streams[p] = new MemoryStream());
        var partitioner = new Partitioner<(int, string)>(2);
        foreach (var (p, stream) in streams)
        {
            var expected = pairs.Where(kv => partitioner.PartitionOf(kv.Item1) == p).OrderBy(kv => kv.Item1).ThenBy(kv => kv.Item2)
                .Select(kv => new KeyValuePair<(int, string), int>(kv.Item1, kv.Item2)).ToList();
            Assert.Equal(expected, Runs.Read<(int, string), int>(new MemoryStream(stream.ToArray())));
        }
        Assert.Equal(limit < 100_000, buffer.Spills > 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_partition_out_of_range_names_the_key(bool distinct)
    {
        using var folder = new TempFolder();
        var buffer = new MapOutputBuffer<string, int>(3, key => key == "bad" ? 3 : 0, null, 64L << 20, folder.Path);
        if (distinct) foreach (var (key, value) in ManyDistinct(MapOutputBuffer<string, int>.DecideAfter * 2)) buffer.Add(key, value);
        var e = Assert.Throws<PartitionOutOfRangeException>(() =>
        {
            buffer.Add("bad", 1);
            buffer.WriteRuns(_ => new MemoryStream());
        });
        Assert.Equal(("bad", 3, 3), (e.Key, e.Partition, e.Partitions));
        Assert.Equal("Partition returned 3; it must be from 0 to 2 (3 reducers)", e.Message);
    }
}
