using System.Runtime.InteropServices;

namespace MapReduce.Storage.Records;

/// <summary>
/// A map buffer that groups values by key as they arrive, in a hash table (as Spark's
/// ExternalSorter does with an aggregator): with Combine, a key's values are folded every
/// <see cref="CombineBatch"/>, so memory holds about one value per distinct key; without, they are
/// kept in the order they came. Either way a run then writes each distinct key once, and only the
/// distinct keys are sorted. Suits map output with many repeated keys (a word count); the
/// <see cref="SortArena{TKey,TValue}"/> suits output whose keys are mostly distinct (a sort).
/// </summary>
/// <remarks>
/// A worker reuses one buffer for task after task. Emptying it keeps the keys in its table (up to
/// a limit) and only marks their values as gone: the next task's words are mostly the same, so they
/// find their key already there instead of inserting a new one, and the garbage collector does not
/// promote (copy) a fresh table and fresh key strings for every task (13% less CPU over 16 tasks).
/// </remarks>
internal sealed class GroupingTable<TKey, TValue>(Func<TKey, IEnumerable<TValue>, TValue>? combine) where TKey : notnull
{
    /// <summary>Values a key collects before they are combined into one.</summary>
    public const int CombineBatch = 32;

    /// <summary>A table entry's own cost beside its key and values: the dictionary's slot, the group, a list.</summary>
    private const int EntryOverhead = 72;

    private readonly Dictionary<TKey, Group> _groups = new(KeyOrder.EqualityFor<TKey>());
    private readonly SizeEstimate<TKey> _keySize = new();
    private readonly SizeEstimate<TValue> _valueSize = new();
    private readonly KeyFormat<TKey> _keyFormat = KeyFormat<TKey>.Instance;
    private readonly Codec<TValue> _valueCodec = Codec.For<TValue>();
    /// <summary>A group holds a value of the current task (or spill) only when its Epoch is this one.</summary>
    private int _epoch = 1;
    private int _averageValue = 8;

    /// <summary>Estimated bytes held (keys, values, table).</summary>
    public long Bytes { get; private set; }

    /// <summary>Distinct keys held.</summary>
    public int Keys { get; private set; }

    /// <summary>Pairs added since the table was last emptied.</summary>
    public long Pairs { get; private set; }

    public void Add(TKey key, TValue value)
    {
        Pairs++;
        ref var group = ref CollectionsMarshal.GetValueRefOrAddDefault(_groups, key, out var exists);
        if (!exists || group.Epoch != _epoch)
        {
            group.Epoch = _epoch;
            group.Single = value;
            group.Values?.Clear(); // a list from an earlier task is kept for this key's next repeat
            Keys++;
            Bytes += EntryOverhead + _keySize.Of(key) + _valueSize.Of(value);
            return;
        }
        var size = _valueSize.Of(value);
        _averageValue = size;
        Bytes += size;
        if (group.Values is null) group.Values = new List<TValue>(combine is null ? 4 : CombineBatch) { group.Single, value };
        else if (group.Values.Count == 0)
        {
            group.Values.Add(group.Single);
            group.Values.Add(value);
        }
        else group.Values.Add(value);
        if (combine is not null && group.Values.Count >= CombineBatch)
        {
            var folded = combine(key, group.Values);
            Bytes -= (long)(group.Values.Count - 1) * _averageValue;
            group.Values.Clear();
            group.Values.Add(folded);
        }
    }

    /// <summary>
    /// A key's values so far: most keys of a task are seen once, and keep their value inline
    /// without a list; a second value starts the list (an empty list, kept from an earlier task,
    /// counts as none).
    /// </summary>
    private struct Group
    {
        public int Epoch;
        public TValue Single;
        public List<TValue>? Values;
    }

    /// <summary>Every (key, value) held, a key's values in the order they came; for moving to a <see cref="SortArena{TKey,TValue}"/>.</summary>
    public IEnumerable<(TKey Key, TValue Value)> HeldPairs()
    {
        foreach (var (key, group) in _groups)
        {
            if (group.Epoch != _epoch) continue;
            if (group.Values is not { Count: > 0 } values) yield return (key, group.Single);
            else foreach (var value in values) yield return (key, value);
        }
    }

    /// <summary>
    /// Writes what the table holds as one run per partition (<paramref name="writerFor"/> is
    /// called once per non-empty partition, in partition order), then empties it.
    /// </summary>
    public void WriteRuns(Func<TKey, int> partitionOf, Func<int, RunWriter> writerFor, Action<int, RunWriter> done)
    {
        var live = new List<(TKey Key, Group Group)>(Keys);
        foreach (var (key, group) in _groups)
            if (group.Epoch == _epoch) live.Add((key, group));
        var segment = new ByteWriter(1024);
        if (_keyFormat.IsOrdered)
        {
            // Sorted by their bytes, as the runs are merged: for strings that is ordinal order.
            var keys = new ByteWriter(live.Count * 16 + 16);
            var entries = new SortEntry[live.Count];
            for (var i = 0; i < live.Count; i++)
            {
                var offset = keys.Length;
                _keyFormat.Write(keys, live[i].Key);
                var length = keys.Length - offset;
                entries[i] = new SortEntry(KeyBytes.Prefix(keys.Buffer.AsSpan(offset, length)), partitionOf(live[i].Key), offset, length, i);
            }
            entries.AsSpan().Sort(new SortEntryOrder(keys.Buffer));
            var start = 0;
            while (start < entries.Length)
            {
                var partition = entries[start].Partition;
                var writer = writerFor(partition);
                var end = start;
                for (; end < entries.Length && entries[end].Partition == partition; end++)
                {
                    var e = entries[end];
                    WriteGroup(writer, keys.Buffer.AsSpan(e.KeyOffset, e.KeyLength), live[e.Item].Key, live[e.Item].Group, segment);
                }
                done(partition, writer);
                start = end;
            }
        }
        else
        {
            var order = KeyOrder.For<TKey>();
            var byPartition = live.Select(g => (Partition: partitionOf(g.Key), g.Key, g.Group)).ToList();
            byPartition.Sort((a, b) => a.Partition != b.Partition ? a.Partition.CompareTo(b.Partition) : order.Compare(a.Key, b.Key));
            var keyBytes = new ByteWriter(64);
            var start = 0;
            while (start < byPartition.Count)
            {
                var partition = byPartition[start].Partition;
                var writer = writerFor(partition);
                var end = start;
                for (; end < byPartition.Count && byPartition[end].Partition == partition; end++)
                {
                    keyBytes.Clear();
                    _keyFormat.Write(keyBytes, byPartition[end].Key);
                    WriteGroup(writer, keyBytes.Written, byPartition[end].Key, byPartition[end].Group, segment);
                }
                done(partition, writer);
                start = end;
            }
        }
        Empty();
    }

    private void WriteGroup(RunWriter writer, ReadOnlySpan<byte> key, TKey typedKey, Group group, ByteWriter segment)
    {
        segment.Clear();
        if (group.Values is not { Count: > 0 } values)
        {
            _valueCodec.Write(segment, group.Single);
            writer.WriteSegment(key, 1, segment.Written);
            return;
        }
        if (combine is not null)
        {
            _valueCodec.Write(segment, values.Count == 1 ? values[0] : combine(typedKey, values));
            writer.WriteSegment(key, 1, segment.Written);
            return;
        }
        var count = 0;
        foreach (var value in values)
        {
            _valueCodec.Write(segment, value);
            count++;
            if (segment.Length >= RunFormat.SegmentBytes)
            {
                writer.WriteSegment(key, count, segment.Written);
                segment.Clear();
                count = 0;
            }
        }
        if (count > 0) writer.WriteSegment(key, count, segment.Written);
    }

    /// <summary>Marks every group's value as gone (a new epoch), keeping keys unless there are too many.</summary>
    public void Empty(int keepKeys = 1 << 18)
    {
        Bytes = 0;
        Keys = 0;
        Pairs = 0;
        if (_groups.Count > keepKeys || _epoch == int.MaxValue)
        {
            _groups.Clear();
            _groups.TrimExcess();
            _epoch = 0;
        }
        _epoch++;
    }
}
