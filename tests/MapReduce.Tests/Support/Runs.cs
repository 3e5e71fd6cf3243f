using MapReduce.Storage.Records;

namespace MapReduce.Tests.Support;

/// <summary>Writes and reads whole runs as lists of pairs, for tests.</summary>
public static class Runs
{
    /// <summary>A run of these pairs, sorted by key (stable), one segment per pair.</summary>
    public static MemoryStream Write<TKey, TValue>(IEnumerable<KeyValuePair<TKey, TValue>> pairs)
    {
        var format = KeyFormat<TKey>.Instance;
        var values = Codec.For<TValue>();
        var encoded = pairs.Select((pair, i) =>
        {
            var key = new ByteWriter();
            format.Write(key, pair.Key);
            var value = new ByteWriter();
            values.Write(value, pair.Value);
            return (pair.Key, Bytes: key.Written.ToArray(), Value: value.Written.ToArray(), Index: i);
        }).ToList();
        var order = KeyOrder.For<TKey>();
        encoded.Sort((a, b) =>
        {
            var c = format.IsOrdered ? KeyBytes.Compare(a.Bytes, b.Bytes) : order.Compare(a.Key, b.Key);
            return c != 0 ? c : a.Index.CompareTo(b.Index);
        });
        var stream = new MemoryStream();
        var writer = new RunWriter(stream);
        foreach (var e in encoded) writer.WriteSegment(e.Bytes, 1, e.Value);
        writer.Complete();
        stream.Position = 0;
        return stream;
    }

    /// <summary>The buffer's runs, read back per partition (empty where it wrote none); the pair counts it returned must match.</summary>
    public static List<KeyValuePair<string, int>>[] WriteAll(MapOutputBuffer<string, int> buffer, int partitions)
    {
        var streams = new Dictionary<int, MemoryStream>();
        var counts = buffer.WriteRuns(p => streams[p] = new MemoryStream());
        var runs = Enumerable.Range(0, partitions)
            .Select(p => streams.TryGetValue(p, out var s) ? Read<string, int>(new MemoryStream(s.ToArray())) : [])
            .ToArray();
        Assert.Equal(runs.Select(r => r.Count), counts);
        return runs;
    }

    /// <summary>Every pair of a run, in its order.</summary>
    public static List<KeyValuePair<TKey, TValue>> Read<TKey, TValue>(Stream run) => Merge<TKey, TValue>([run]).SelectMany(g => g.Values.Select(v => new KeyValuePair<TKey, TValue>(g.Key, v))).ToList();

    /// <summary>The merged runs as groups: each key once, with its values in run order.</summary>
    public static List<(TKey Key, List<TValue> Values)> Merge<TKey, TValue>(IReadOnlyList<Stream> runs)
    {
        var codec = Codec.For<TValue>();
        using var merge = new RunMerge<TKey>(runs.Select(r => new RunReader(r)).ToList());
        var groups = new List<(TKey, List<TValue>)>();
        while (merge.NextKey())
        {
            var values = new List<TValue>();
            while (merge.NextSegment(out var segment))
            {
                var reader = new ByteReader(segment.Values);
                for (var i = 0; i < segment.ValueCount; i++) values.Add(codec.Read(ref reader));
                Assert.True(reader.AtEnd, "a segment holds exactly its values");
            }
            groups.Add((merge.DecodedKey, values));
        }
        return groups;
    }
}
