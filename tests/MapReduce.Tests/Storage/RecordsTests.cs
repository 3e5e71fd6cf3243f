using MapReduce.Storage.Records;

namespace MapReduce.Tests.Storage;

public class RecordsTests
{
    [Fact]
    public void Partitioning_is_stable_and_spreads_keys()
    {
        var a = new Partitioner<string>(4);
        var b = new Partitioner<string>(4);
        var words = Enumerable.Range(0, 2000).Select(i => $"word{i}").ToList();
        Assert.Equal(words.Select(a.PartitionOf), words.Select(b.PartitionOf));
        var sizes = words.GroupBy(a.PartitionOf).Select(g => g.Count()).ToList();
        Assert.Equal(4, sizes.Count);
        Assert.All(sizes, n => Assert.InRange(n, 400, 600));
    }

    [Fact]
    public void Partitions_are_fixed_across_processes()
    {
        // XxHash3 of the UTF-16 code units: these values must never change, or old runs would be misrouted.
        var p = new Partitioner<string>(7);
        Assert.Equal([p.PartitionOf("the"), p.PartitionOf("and"), p.PartitionOf("Alice")], [ExpectedPartition("the"), ExpectedPartition("and"), ExpectedPartition("Alice")]);
        var tuples = new Partitioner<(int, string)>(5);
        Assert.Equal(tuples.PartitionOf((1, "x")), new Partitioner<(int, string)>(5).PartitionOf((1, "x")));
    }

    private static int ExpectedPartition(string key) =>
        (int)(System.IO.Hashing.XxHash3.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(key.AsSpan())) % 7);

    [Fact]
    public void A_run_is_written_sorted_and_read_back()
    {
        var pairs = new List<KeyValuePair<string, int>> { new("b", 1), new("a", 2), new("B", 3), new("a", 4) };
        var stream = new MemoryStream();
        SortedRun.Write(stream, pairs);
        stream.Position = 0;
        // Ordinal: upper case before lower case; equal keys keep their order.
        Assert.Equal([new("B", 3), new("a", 2), new("a", 4), new("b", 1)], SortedRun.Read<string, int>(stream).ToList());
    }

    [Fact]
    public void A_truncated_run_is_reported_not_silently_shortened()
    {
        var stream = new MemoryStream();
        SortedRun.Write(stream, [new KeyValuePair<string, int>("key", 1), new("other", 2)]);
        var cut = new MemoryStream(stream.ToArray()[..^3]);
        var e = Assert.Throws<InvalidDataException>(() => SortedRun.Read<string, int>(cut).ToList());
        Assert.Equal("sorted run is truncated", e.Message);
    }

    [Fact]
    public void Merge_of_runs_groups_every_key_once_in_order()
    {
        var random = new Random(3);
        var runs = Enumerable.Range(0, 5).Select(_ =>
        {
            var pairs = Enumerable.Range(0, 300).Select(_ => new KeyValuePair<string, int>($"k{random.Next(100)}", 1)).ToList();
            var stream = new MemoryStream();
            SortedRun.Write(stream, pairs);
            stream.Position = 0;
            return (IEnumerable<KeyValuePair<string, int>>)SortedRun.Read<string, int>(stream).ToList();
        }).ToList();
        var expected = runs.SelectMany(r => r).GroupBy(p => p.Key).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (g.Key, g.Count())).ToList();
        // Every other group's values are left unread: the grouping must skip them correctly.
        var groups = RunMerger.Groups(RunMerger.Merge(runs)).Select((g, i) => (g.Key, i % 2 == 0 ? g.Values.Count() : -1)).ToList();
        Assert.Equal(expected.Select(e => e.Key), groups.Select(g => g.Key));
        Assert.All(groups.Where(g => g.Item2 >= 0), g => Assert.Equal(expected.First(e => e.Key == g.Key).Item2, g.Item2));
    }

    [Fact]
    public void Codecs_round_trip_tuples_arrays_and_nulls()
    {
        var stream = new MemoryStream();
        var writer = new BinaryWriter(stream);
        var codec = Codec.For<(string, int[], List<double>, long?)>();
        var value = ("é€𝄞", new[] { 1, -2, int.MaxValue }, new List<double> { 0.5, double.NaN }, (long?)null);
        codec.Write(writer, value);
        Codec.For<string>().Write(writer, null!);
        writer.Flush();
        stream.Position = 0;
        var reader = new BinaryReader(stream);
        var back = codec.Read(reader);
        Assert.Equal(value.Item1, back.Item1);
        Assert.Equal(value.Item2, back.Item2);
        Assert.Equal(value.Item3, back.Item3);
        Assert.Null(back.Item4);
        Assert.Null(Codec.For<string>().Read(reader));
    }
}
