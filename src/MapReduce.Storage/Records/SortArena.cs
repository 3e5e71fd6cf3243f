namespace MapReduce.Storage.Records;

/// <summary>
/// A map buffer of serialized pairs, as Hadoop's MapOutputBuffer and Spark's Tungsten sort keep
/// them: each key and value is encoded into one byte array as it is added, and a 24-byte
/// <see cref="SortEntry"/> per pair (partition, key prefix, where it is) is what gets sorted. No
/// object is kept per pair, its size is exact, and sorting compares partitions and prefixes before
/// any key bytes. Only for keys whose bytes sort as the keys do (<see cref="KeyFormat{TKey}.IsOrdered"/>).
/// Suits map output whose keys are mostly distinct (a sort, a join); a run still writes equal keys
/// adjacent as one segment.
/// </summary>
internal sealed class SortArena<TKey, TValue>
{
    private readonly KeyFormat<TKey> _keyFormat = KeyFormat<TKey>.Instance;
    private readonly Codec<TValue> _valueCodec = Codec.For<TValue>();
    private readonly ByteWriter _data = new(1 << 16);
    private SortEntry[] _entries = new SortEntry[1024];

    public SortArena()
    {
        if (!_keyFormat.IsOrdered) throw new InvalidOperationException($"keys of type {typeof(TKey).Name} are not compared as bytes");
    }

    public int Count { get; private set; }

    /// <summary>Exact bytes held: the encoded pairs and their entries.</summary>
    public long Bytes => _data.Length + (long)Count * 24;

    public void Add(TKey key, TValue value, int partition)
    {
        var offset = _data.Length;
        _keyFormat.Write(_data, key);
        var keyLength = _data.Length - offset;
        _valueCodec.Write(_data, value);
        if (Count == _entries.Length) Array.Resize(ref _entries, _entries.Length * 2);
        _entries[Count++] = new SortEntry(KeyBytes.Prefix(_data.Buffer.AsSpan(offset, keyLength)), partition, offset, keyLength, _data.Length - offset - keyLength);
    }

    /// <summary>Sorts what is held and writes one run per non-empty partition, a key's values in the order they came; then empties the arena.</summary>
    public void WriteRuns(Func<int, RunWriter> writerFor, Action<int, RunWriter> done)
    {
        var entries = _entries.AsSpan(0, Count);
        var bytes = _data.Buffer;
        SortEntrySort.Sort(entries, bytes);
        var segment = new ByteWriter(1024);
        var i = 0;
        while (i < entries.Length)
        {
            var partition = entries[i].Partition;
            var writer = writerFor(partition);
            while (i < entries.Length && entries[i].Partition == partition)
            {
                // One segment per run of equal keys (cut every SegmentBytes).
                var first = entries[i];
                var key = bytes.AsSpan(first.KeyOffset, first.KeyLength);
                segment.Clear();
                var count = 0;
                do
                {
                    var e = entries[i];
                    segment.Write(bytes.AsSpan(e.KeyOffset + e.KeyLength, e.Item));
                    count++;
                    i++;
                    if (segment.Length >= RunFormat.SegmentBytes)
                    {
                        writer.WriteSegment(key, count, segment.Written);
                        segment.Clear();
                        count = 0;
                    }
                }
                while (i < entries.Length && entries[i].Partition == partition && entries[i].Prefix == first.Prefix
                       && bytes.AsSpan(entries[i].KeyOffset, entries[i].KeyLength).SequenceEqual(key));
                if (count > 0) writer.WriteSegment(key, count, segment.Written);
            }
            done(partition, writer);
        }
        Empty();
    }

    public void Empty()
    {
        _data.Clear();
        Count = 0;
    }
}
