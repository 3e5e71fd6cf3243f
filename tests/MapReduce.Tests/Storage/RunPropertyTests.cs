using CsCheck;
using MapReduce.Storage.Records;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Storage;

/// <summary>
/// Random map output (CsCheck) through the map output buffer with a small memory limit, so it
/// spills and merges, plain and in LZ4 frames, with and without Combine: every partition's run is
/// what sorting and grouping the pairs here gives. And runs cut short or with bytes changed:
/// reading one ends in <see cref="InvalidDataException"/> or in pairs, never in another exception
/// or a huge allocation; a run cut short is always reported.
/// </summary>
public class RunPropertyTests
{
    /// <summary>Few distinct keys (grouping) or many (sorting), of any text.</summary>
    private static readonly Gen<string> Keys = Gen.Frequency(
        (2, (IGen<string>)Gen.OneOf("", "a", "b", "\0", "é", "\uffff", "\U0001F600", "aaaaaaaaaa", "aaaaaaaab")),
        (3, (IGen<string>)CodecPropertyTests.Text));

    private static readonly Gen<List<(string Key, int Value)>> Pairs = Gen.Select(Keys, Gen.Int[-100_000, 100_000]).List[0, 600];

    [Fact]
    public void Spilled_and_merged_runs_hold_exactly_the_sorted_pairs_of_their_partition()
    {
        Gen.Select(Pairs, Gen.Int[1, 5], Gen.Int[200, 5000], Gen.Bool).Sample((pairs, partitions, limit, compress) =>
        {
            using var folder = new TempFolder();
            var buffer = new MapOutputBuffer<string, int>(partitions, null, null, limit, folder.Path, compress);
            foreach (var (key, value) in pairs) buffer.Add(key, value);
            var runs = Runs.WriteAll(buffer, partitions);

            var partitioner = new Partitioner<string>(partitions);
            for (var p = 0; p < partitions; p++)
            {
                // Stable: a key's values in the order they were emitted.
                var expected = pairs.Where(kv => partitioner.PartitionOf(kv.Key) == p).OrderBy(kv => kv.Key, StringComparer.Ordinal)
                    .Select(kv => new KeyValuePair<string, int>(kv.Key, kv.Value)).ToList();
                Assert.Equal(expected, runs[p]);
            }
            Assert.Empty(Directory.GetFiles(folder.Path));
        }, iter: 30, threads: 1);
    }

    [Fact]
    public void With_combine_each_key_comes_out_once_folded_across_spills()
    {
        Gen.Select(Pairs, Gen.Int[1, 5], Gen.Int[200, 5000], Gen.Bool).Sample((pairs, partitions, limit, compress) =>
        {
            using var folder = new TempFolder();
            var buffer = new MapOutputBuffer<string, int>(partitions, null, (_, values) => values.Sum(), limit, folder.Path, compress);
            foreach (var (key, value) in pairs) buffer.Add(key, value);
            var runs = Runs.WriteAll(buffer, partitions);

            var partitioner = new Partitioner<string>(partitions);
            for (var p = 0; p < partitions; p++)
            {
                var expected = pairs.Where(kv => partitioner.PartitionOf(kv.Key) == p).GroupBy(kv => kv.Key, StringComparer.Ordinal)
                    .OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => new KeyValuePair<string, int>(g.Key, g.Sum(kv => kv.Value))).ToList();
                Assert.Equal(expected, runs[p]);
            }
        }, iter: 40, threads: 1);
    }

    /// <summary>
    /// Keys with lone surrogates are stored with U+FFFD in their place: keys that become one key
    /// come out as one key of one partition, holding the values of all of them.
    /// </summary>
    [Fact]
    public void Keys_that_are_stored_alike_meet_in_one_partition_as_one_key()
    {
        var pairs = Gen.Select(Gen.OneOf("a\ud800", "a\udc00", "a\ufffd", "\ud800", "\udfff", "b"), Gen.Int[-1000, 1000]).List[0, 300];
        var keys = Gen.Frequency((1, (IGen<List<(string, int)>>)pairs), (1, (IGen<List<(string, int)>>)Gen.Select(CodecPropertyTests.AnyUtf16, Gen.Int[-1000, 1000]).List[0, 300]));
        Gen.Select(keys, Gen.Int[1, 7], Gen.OneOf(400, 64 << 20), Gen.Bool).Sample((pairs, partitions, limit, combine) =>
        {
            using var folder = new TempFolder();
            var buffer = new MapOutputBuffer<string, int>(partitions, null, combine ? (_, values) => values.Sum() : null, limit, folder.Path);
            foreach (var (key, value) in pairs) buffer.Add(key, value);
            var streams = new Dictionary<int, MemoryStream>();
            buffer.WriteRuns(p => streams[p] = new MemoryStream());

            static string Stored(string key) => System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(key));
            var partitioner = new Partitioner<string>(partitions);
            for (var p = 0; p < partitions; p++)
            {
                var expected = pairs.Where(kv => partitioner.PartitionOf(Stored(kv.Item1)) == p).GroupBy(kv => Stored(kv.Item1), StringComparer.Ordinal)
                    .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (g.Key, Sum: g.Sum(kv => kv.Item2))).ToList();
                var actual = streams.TryGetValue(p, out var s) ? Runs.Merge<string, int>([new MemoryStream(s.ToArray())]) : [];
                Assert.Equal(expected, actual.Select(g => (g.Key, Sum: g.Values.Sum())).ToList());
            }
        }, iter: 100, threads: 1);
    }

    /// <summary>Mostly distinct keys past the point where the buffer moves to its arena of serialized pairs.</summary>
    [Fact]
    public void Mostly_distinct_keys_in_the_arena_come_out_sorted_too()
    {
        var many = Gen.Select(CodecPropertyTests.Text, Gen.Int).List[MapOutputBuffer<string, int>.DecideAfter + 100, MapOutputBuffer<string, int>.DecideAfter + 3000];
        Gen.Select(many, Gen.Int[1, 4], Gen.OneOf(64L << 20, 300_000L), Gen.Bool).Sample((pairs, partitions, limit, compress) =>
        {
            using var folder = new TempFolder();
            var buffer = new MapOutputBuffer<string, int>(partitions, null, null, limit, folder.Path, compress);
            for (var i = 0; i < pairs.Count; i++) buffer.Add(pairs[i].Item1 + i, pairs[i].Item2); // + i: mostly distinct
            var runs = Runs.WriteAll(buffer, partitions);

            var partitioner = new Partitioner<string>(partitions);
            var keyed = pairs.Select((kv, i) => new KeyValuePair<string, int>(kv.Item1 + i, kv.Item2)).ToList();
            for (var p = 0; p < partitions; p++)
                Assert.Equal(keyed.Where(kv => partitioner.PartitionOf(kv.Key) == p).OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList(), runs[p]);
        }, iter: 3, threads: 1);
    }

    [Fact]
    public void Merging_random_runs_groups_every_key_once_in_order_with_values_in_run_order()
    {
        Gen.Select(Pairs.List[0, 6], Gen.Bool).Sample((runs, compress) =>
        {
            var merged = new MemoryStream();
            RunMerge<string>.MergeInto(runs.Select(r => Recompressed(Runs.Write(r.Select(kv => new KeyValuePair<string, int>(kv.Key, kv.Value))), compress)).ToList(), merged, compress);

            var expected = runs.SelectMany(r => r.Select(kv => kv)).GroupBy(kv => kv.Key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => (g.Key, g.Select(kv => kv.Value).ToList())).ToList();
            var groups = Runs.Merge<string, int>([new MemoryStream(merged.ToArray())]);
            Assert.Equal(expected.Select(e => e.Key), groups.Select(g => g.Key));
            Assert.Equal(expected.Select(e => e.Item2), groups.Select(g => g.Values));
        }, iter: 60, threads: 1);
    }

    [Fact]
    public void A_run_cut_short_anywhere_is_reported_as_truncated_or_corrupt()
    {
        Gen.Select(Pairs, Gen.Bool, Gen.Double.Unit).Sample((pairs, compress, at) =>
        {
            var bytes = Recompressed(Runs.Write(pairs.Select(kv => new KeyValuePair<string, int>(kv.Key, kv.Value))), compress).ToArray();
            var cut = (int)(at * bytes.Length); // 0 .. length - 1: at least the end marker is gone
            Assert.Throws<InvalidDataException>(() => ReadAll(bytes[..cut]));
        }, iter: 400, threads: 1);
    }

    [Fact]
    public void A_run_with_changed_bytes_reads_as_pairs_or_is_refused_as_invalid_data()
    {
        Gen.Select(Pairs, Gen.Bool, Gen.Select(Gen.Double.Unit, Gen.Byte).Array[1, 4]).Sample((pairs, compress, changes) =>
        {
            var bytes = Recompressed(Runs.Write(pairs.Select(kv => new KeyValuePair<string, int>(kv.Key, kv.Value))), compress).ToArray();
            foreach (var (at, value) in changes) bytes[(int)(at * bytes.Length)] = value;
            try { ReadAll(bytes); }
            catch (InvalidDataException) { }
        }, iter: 600, threads: 1);
    }

    /// <summary>A corrupt segment length must not make the reader allocate what it claims before finding the run is shorter.</summary>
    [Fact]
    public void A_segment_claiming_more_bytes_than_the_run_holds_is_refused_without_allocating_them()
    {
        Gen.Int[1 << 20, int.MaxValue - 64].Sample(claimed =>
        {
            var writer = new ByteWriter();
            writer.Write("MRR2"u8);
            writer.WriteByte(RunFormat.NoFlags);
            writer.WriteVarInt(2); // a key of 1 byte
            writer.WriteVarInt(1);
            writer.WriteVarInt(claimed);
            writer.Write("kvalue"u8);
            var before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Equal("sorted run is truncated", Assert.Throws<InvalidDataException>(() => ReadAll(writer.Written.ToArray())).Message);
            Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 4 << 20);
        }, iter: 100, threads: 1);
    }

    private static void ReadAll(byte[] run)
    {
        var codec = Codec.For<int>();
        using var reader = new RunReader(new MemoryStream(run));
        using var merge = new RunMerge<string>([reader]);
        while (merge.NextKey())
        {
            _ = merge.DecodedKey;
            while (merge.NextSegment(out var segment))
            {
                var values = new ByteReader(segment.Values);
                for (var i = 0; i < segment.ValueCount; i++) codec.Read(ref values);
            }
        }
    }

    /// <summary>The same run, its segments copied into an LZ4 frame when asked.</summary>
    private static MemoryStream Recompressed(MemoryStream run, bool compress)
    {
        if (!compress) return run;
        var output = new MemoryStream();
        var writer = new RunWriter(output, compress: true);
        using var reader = new RunReader(run);
        while (reader.MoveNext()) writer.WriteSegment(reader.Key, reader.ValueCount, reader.Values);
        writer.Complete();
        output.Position = 0;
        return output;
    }
}
