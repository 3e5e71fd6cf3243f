using MapReduce.Storage.Records;
using MapReduce.Tests.Support;

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
    }

    private static int ExpectedPartition(string key) =>
        (int)(System.IO.Hashing.XxHash3.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(key.AsSpan())) % 7);

    public record Rec(string Text, int N);

    /// <summary>
    /// The bytes of each codec and the partitions hashed from them, as written by the build before
    /// the span codecs (BinaryWriter-based): a job's output parts depend on them, so they must stay.
    /// </summary>
    [Fact]
    public void Codec_bytes_and_hash_partitions_are_those_of_earlier_versions()
    {
        Check(0, "00", 2, 883); Check(1, "01", 3, 715); Check(-1, "FFFFFFFF0F", 4, 379);
        Check(int.MaxValue, "FFFFFFFF07", 2, 955); Check(int.MinValue, "8080808008", 2, 23); Check(300, "AC02", 1, 391);
        Check(0L, "00", 2, 883); Check(-5L, "FBFFFFFFFFFFFFFFFF01", 4, 402); Check(long.MaxValue, "FFFFFFFFFFFFFFFF7F", 0, 179);
        Check(1L << 40, "808080808020", 6, 923);
        Check(0.5, "000000000000E03F", 0, 217); Check(-0.0, "0000000000000080", 1, 495); Check(double.NaN, "000000000000F8FF", 1, 154);
        Check(1.5f, "0000C03F", 2, 488); Check(true, "01", 3, 715); Check('x', "7800", 0, 325); Check((byte)7, "07", 2, 431);
        Check((short)-3, "FDFF", 1, 780); Check(1.25m, "7D000000000000000000000000000200", 4, 996);
        Check(new Guid("0f8fad5b-d9cb-469f-a165-70867728950e"), "5BAD8F0FCBD99F46A16570867728950E", 4, 476);
        Check(new DateTime(2026, 12, 7, 3, 4, 5, DateTimeKind.Utc), "8040C0C00E54DF48", 2, 679);
        Check((1, "x"), "010178", 5, 516); Check((-7, "é€𝄞"), "F9FFFFFF0F09C3A9E282ACF09D849E", 1, 668);
        Check(("a", "b", 3), "0161016203", 3, 48); Check(("a", 2L, 3.0, true), "016102000000000000084001", 1, 462);
        Check(new[] { 1, -2, 3 }, "0301FEFFFFFF0F03", 3, 327); Check(new List<string> { "a", null!, "c" }, "030161FFFFFFFF0F0163", 3, 260);
        Check((int?)5, "0105", 6, 939); Check((long?)null, "00", 2, 883);
        Check(new Rec("hello", 3), "167B2254657874223A2268656C6C6F222C224E223A337D", 3, 133);
    }

    private static void Check<T>(T value, string hex, int of7, int of1000)
    {
        var writer = new ByteWriter();
        Codec.For<T>().Write(writer, value);
        Assert.Equal(hex, Convert.ToHexString(writer.Written));
        Assert.Equal(of7, new Partitioner<T>(7).PartitionOf(value));
        Assert.Equal(of1000, new Partitioner<T>(1000).PartitionOf(value));
    }

    [Fact]
    public void A_run_is_written_sorted_and_read_back()
    {
        var run = Runs.Write<string, int>([new("b", 1), new("a", 2), new("B", 3), new("a", 4)]);
        // Ordinal: upper case before lower case; equal keys keep their order.
        Assert.Equal([new("B", 3), new("a", 2), new("a", 4), new("b", 1)], Runs.Read<string, int>(run));
    }

    [Fact]
    public void A_truncated_or_corrupt_run_is_reported_not_silently_shortened()
    {
        var bytes = Runs.Write<string, int>([new("key", 1), new("other", 2)]).ToArray();
        for (var cut = 1; cut <= 4; cut++)
        {
            var e = Assert.Throws<InvalidDataException>(() => Runs.Read<string, int>(new MemoryStream(bytes[..^cut])));
            Assert.Equal("sorted run is truncated", e.Message);
        }
        var old = (byte[])bytes.Clone();
        old[3] = (byte)'1';
        Assert.Equal("this run has format 1, not 2 (written by another version)", Assert.Throws<InvalidDataException>(() => Runs.Read<string, int>(new MemoryStream(old))).Message);
        Assert.Equal("not a sorted run (bad header)", Assert.Throws<InvalidDataException>(() => Runs.Read<string, int>(new MemoryStream([1, 2, 3]))).Message);
        var noValues = (byte[])bytes.Clone();
        noValues[6] = 0; // the first segment's value count (after the header and the key length)
        Assert.Equal("sorted run is corrupt (a segment without values)", Assert.Throws<InvalidDataException>(() => Runs.Read<string, int>(new MemoryStream(noValues))).Message);
    }

    [Fact]
    public void A_run_in_an_LZ4_frame_reads_back_the_same_and_a_cut_one_is_reported()
    {
        var pairs = Enumerable.Range(0, 20_000).Select(i => new KeyValuePair<string, string>($"key{i % 997:D4}", new string('v', i % 50))).ToList();
        var plain = Runs.Write(pairs);
        var compressed = new MemoryStream();
        var writer = new RunWriter(compressed, compress: true);
        var reader = new RunReader(new MemoryStream(plain.ToArray()));
        while (reader.MoveNext()) writer.WriteSegment(reader.Key, reader.ValueCount, reader.Values);
        writer.Complete();
        Assert.True(compressed.Length < plain.Length / 3, $"{compressed.Length} bytes against {plain.Length}");
        Assert.Equal(Runs.Read<string, string>(new MemoryStream(plain.ToArray())), Runs.Read<string, string>(new MemoryStream(compressed.ToArray())));

        var cut = compressed.ToArray()[..^20];
        var e = Assert.Throws<InvalidDataException>(() => Runs.Read<string, string>(new MemoryStream(cut)));
        Assert.Equal("sorted run is truncated", e.Message);
    }

    [Fact]
    public void Merge_of_runs_groups_every_key_once_in_order_with_values_in_run_order()
    {
        var random = new Random(3);
        var pairs = Enumerable.Range(0, 5).Select(r => Enumerable.Range(0, 300).Select(i => new KeyValuePair<string, int>($"k{random.Next(100)}", r * 1000 + i)).ToList()).ToList();
        var groups = Runs.Merge<string, int>(pairs.Select(p => (Stream)Runs.Write(p)).ToList());
        var expected = pairs.SelectMany(p => p).GroupBy(p => p.Key).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Select(p => p.Value).OrderBy(v => v).ToList())).ToList();
        Assert.Equal(expected.Select(e => e.Key), groups.Select(g => g.Key));
        Assert.Equal(expected.Select(e => e.Item2), groups.Select(g => g.Values));
    }

    [Fact]
    public void A_merge_skips_what_a_reader_left_unread_and_an_empty_key_is_a_key()
    {
        var first = Runs.Write<string, int>([new("", 1), new("a", 2), new("b", 3)]);
        var second = Runs.Write<string, int>([new("", 4), new("b", 5), new("c", 6)]);
        using var merge = new RunMerge<string>([new RunReader(first), new RunReader(second)]);
        var keys = new List<string>();
        while (merge.NextKey())
        {
            keys.Add(merge.DecodedKey);
            if (merge.DecodedKey == "b") Assert.True(merge.NextSegment(out _)); // one of its two segments read, the other skipped
        }
        Assert.Equal(["", "a", "b", "c"], keys);
    }

    [Fact]
    public void Key_bytes_sort_as_the_keys_do_and_decode_to_them()
    {
        var random = new Random(11);
        string RandomString()
        {
            var chars = new List<char>();
            for (var i = random.Next(0, 6); i > 0; i--)
            {
                switch (random.Next(5))
                {
                    case 0: chars.Add((char)random.Next(0, 0x80)); break;
                    case 1: chars.Add((char)random.Next(0x80, 0xD800)); break;
                    case 2: chars.Add((char)random.Next(0xE000, 0x10000)); break;
                    default: chars.AddRange(char.ConvertFromUtf32(random.Next(0x10000, 0x110000))); break;
                }
            }
            return new string(chars.ToArray());
        }
        AssertOrdered(Enumerable.Range(0, 3000).Select(_ => RandomString()).Distinct().ToList(), StringComparer.Ordinal);
        AssertOrdered(Enumerable.Range(0, 3000).Select(_ => random.Next(int.MinValue, int.MaxValue)).Concat([int.MinValue, int.MaxValue, 0, -1]).Distinct().ToList(), Comparer<int>.Default);
        AssertOrdered(Enumerable.Range(0, 3000).Select(_ => random.NextInt64(long.MinValue, long.MaxValue)).Concat([long.MinValue, long.MaxValue, 0, -1]).Distinct().ToList(), Comparer<long>.Default);
    }

    private static void AssertOrdered<T>(List<T> keys, IComparer<T> order)
    {
        var format = KeyFormat<T>.Instance;
        Assert.True(format.IsOrdered);
        var encoded = keys.Select(k =>
        {
            var w = new ByteWriter();
            format.Write(w, k);
            return (Key: k, Bytes: w.Written.ToArray());
        }).ToList();
        Assert.All(encoded, e => Assert.Equal(e.Key, format.Read(e.Bytes)));
        var byBytes = encoded.OrderBy(e => e.Bytes, Comparer<byte[]>.Create((a, b) => KeyBytes.Compare(a, b))).Select(e => e.Key).ToList();
        Assert.Equal(keys.Order(order).ToList(), byBytes);
        // The prefix never contradicts the bytes.
        Assert.All(encoded.Zip(encoded.Skip(1)), pair =>
        {
            var (a, b) = pair;
            var byPrefix = KeyBytes.Prefix(a.Bytes).CompareTo(KeyBytes.Prefix(b.Bytes));
            if (byPrefix != 0) Assert.Equal(byPrefix, Math.Sign(KeyBytes.Compare(a.Bytes, b.Bytes)));
        });
    }

    [Fact]
    public void Codecs_round_trip_tuples_arrays_and_nulls()
    {
        var writer = new ByteWriter();
        var codec = Codec.For<(string, int[], List<double>, long?)>();
        var value = ("é€𝄞", new[] { 1, -2, int.MaxValue }, new List<double> { 0.5, double.NaN }, (long?)null);
        codec.Write(writer, value);
        Codec.For<string>().Write(writer, null!);
        Codec.For<string>().Write(writer, new string('y', 300));
        var reader = new ByteReader(writer.Written);
        var back = codec.Read(ref reader);
        Assert.Equal(value.Item1, back.Item1);
        Assert.Equal(value.Item2, back.Item2);
        Assert.Equal(value.Item3, back.Item3);
        Assert.Null(back.Item4);
        Assert.Null(Codec.For<string>().Read(ref reader));
        Assert.Equal(new string('y', 300), Codec.For<string>().Read(ref reader));
        Assert.True(reader.AtEnd);
    }
}
