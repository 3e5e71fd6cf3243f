using MapReduce.Storage.Records;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Storage;

public class MapOutputBufferTests
{
    private static readonly string[] Words = Enumerable.Range(0, 5000).Select(i => $"w{i * 7919 % 613}").ToArray();

    [Theory]
    [InlineData(1_000_000)] // everything in memory
    [InlineData(97)]        // dozens of spills merged at the end
    public void Without_combine_every_pair_comes_out_sorted_and_equal_keys_keep_emission_order(int spillLimit)
    {
        using var folder = new TempFolder();
        var buffer = new MapOutputBuffer<string, int>(3, null, spillLimit, folder.Path);
        for (var i = 0; i < Words.Length; i++) buffer.Add(Words[i], i);
        var runs = WriteRuns(buffer, 3);

        var partitioner = new Partitioner<string>(3);
        for (var p = 0; p < 3; p++)
        {
            var expected = Words.Select((w, i) => new KeyValuePair<string, int>(w, i))
                .Where(kv => partitioner.PartitionOf(kv.Key) == p)
                .OrderBy(kv => kv.Key, StringComparer.Ordinal).ThenBy(kv => kv.Value).ToList();
            Assert.Equal(expected, runs[p]);
        }
        Assert.Equal(spillLimit < Words.Length, buffer.Spills > 0);
        Assert.Empty(Directory.GetFiles(folder.Path)); // spill files are deleted once merged
    }

    [Theory]
    [InlineData(1_000_000)]
    [InlineData(50)]
    public void With_combine_each_key_comes_out_once_with_the_exact_total(int spillLimit)
    {
        using var folder = new TempFolder();
        var buffer = new MapOutputBuffer<string, int>(2, (_, values) => values.Sum(), spillLimit, folder.Path);
        foreach (var word in Words) buffer.Add(word, 1);
        var runs = WriteRuns(buffer, 2);

        var expected = Words.GroupBy(w => w).ToDictionary(g => g.Key, g => g.Count());
        var actual = runs.SelectMany(r => r).ToList();
        Assert.Equal(expected.Count, actual.Count);
        Assert.All(actual, kv => Assert.Equal(expected[kv.Key], kv.Value));
        Assert.All(runs, r => Assert.Equal(r.Select(kv => kv.Key).Order(StringComparer.Ordinal), r.Select(kv => kv.Key)));
        Assert.Equal(spillLimit < expected.Count, buffer.Spills > 0);
    }

    [Theory]
    [InlineData(1_000_000, true)] // keys kept from task to task
    [InlineData(1_000_000, false)]
    [InlineData(40, true)]        // more keys than the limit: spills, and the table is cleared
    [InlineData(40, false)]
    public void A_reused_buffer_holds_only_the_next_tasks_pairs(int spillLimit, bool combine)
    {
        using var folder = new TempFolder();
        var buffer = new MapOutputBuffer<string, int>(2, combine ? (_, values) => values.Sum() : null, spillLimit, folder.Path);
        // A first task that fails half way (its pairs must not leak), then two tasks that overlap in words.
        var tasks = new[] { Words[..2000], Words[1000..3000], Words[2500..] };
        foreach (var word in tasks[0]) buffer.Add(word, 100);
        for (var t = 1; t < tasks.Length; t++)
        {
            var spills = Directory.CreateDirectory(Path.Combine(folder.Path, $"task-{t}")).FullName;
            buffer.Reset(spills);
            foreach (var word in tasks[t]) buffer.Add(word, 1);
            var actual = WriteRuns(buffer, 2).SelectMany(r => r).OrderBy(kv => kv.Key, StringComparer.Ordinal).ThenBy(kv => kv.Value).ToList();

            var expected = combine
                ? tasks[t].GroupBy(w => w).Select(g => new KeyValuePair<string, int>(g.Key, g.Count()))
                : tasks[t].Select(w => new KeyValuePair<string, int>(w, 1));
            Assert.Equal(expected.OrderBy(kv => kv.Key, StringComparer.Ordinal).ThenBy(kv => kv.Value), actual);
            Assert.Equal(spillLimit < 1000, buffer.Spills > 0);
            Assert.Empty(Directory.GetFiles(spills));
        }
    }

    private static List<KeyValuePair<string, int>>[] WriteRuns(MapOutputBuffer<string, int> buffer, int partitions)
    {
        var streams = new Dictionary<int, MemoryStream>();
        buffer.WriteRuns(p => streams[p] = new MemoryStream());
        return Enumerable.Range(0, partitions)
            .Select(p => streams.TryGetValue(p, out var s) ? SortedRun.Read<string, int>(new MemoryStream(s.ToArray())).ToList() : [])
            .ToArray();
    }
}
