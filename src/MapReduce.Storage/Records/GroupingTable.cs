using System.Runtime.CompilerServices;

namespace MapReduce.Storage.Records;

/// <summary>
/// A map buffer that groups pairs by key as they arrive (as Spark's ExternalSorter does with an
/// aggregator). Each distinct key gets a dense id (<see cref="IKeyIds{TKey}"/>); with Combine a
/// key's values are folded every <see cref="CombineBatch"/>, so memory holds about one value per
/// distinct key; without, each pair is appended as (id, value) in the order it came and grouped by
/// a counting sort when written. Either way a run then writes each distinct key once, and only the
/// distinct keys are sorted. Suits map output with many repeated keys (a word count); the
/// <see cref="SortArena{TKey,TValue}"/> suits output whose keys are mostly distinct (a sort).
/// </summary>
/// <remarks>
/// A worker reuses one buffer for task after task. Emptying it keeps the keys it has seen (up to a
/// limit) and only starts a new epoch: the next task's words are mostly the same, so they find
/// their id already there, and the garbage collector is not handed a fresh table and fresh key
/// strings to promote (copy) for every task.
/// </remarks>
internal sealed class GroupingTable<TKey, TValue>(Func<TKey, IEnumerable<TValue>, TValue>? combine) where TKey : notnull
{
    /// <summary>Values a key collects before they are combined into one.</summary>
    public const int CombineBatch = 32;

    /// <summary>A key's own cost beside its characters: its table slot, hash, place and epoch.</summary>
    private const int KeyOverhead = 48;

    /// <summary>Keys kept from task to task at most; past it the table starts empty.</summary>
    private const int KeptKeys = 1 << 18;

    private readonly IKeyIds<TKey> _ids = IKeyIds<TKey>.Create();
    private readonly SizeEstimate<TKey> _keySize = new();
    private readonly SizeEstimate<TValue> _valueSize = new();
    private readonly KeyFormat<TKey> _keyFormat = KeyFormat<TKey>.Instance;
    private readonly Codec<TValue> _valueCodec = Codec.For<TValue>();
    private readonly List<int> _live = [];
    private int[] _epochOf = new int[1024];
    private int _epoch = 1;
    // With Combine: a key's value, and its batch once it has a second.
    private TValue[] _single = combine is null ? [] : new TValue[1024];
    private List<TValue>?[] _batches = combine is null ? [] : new List<TValue>?[1024];
    // Without: every pair, as (key id, value), in the order it came.
    private int[] _pairIds = combine is null ? new int[1024] : [];
    private TValue[] _pairValues = combine is null ? new TValue[1024] : [];
    private int _pairCount;

    /// <summary>Estimated bytes held (keys, values, table).</summary>
    public long Bytes { get; private set; }

    /// <summary>Distinct keys held.</summary>
    public int Keys => _live.Count;

    /// <summary>Pairs added since the table was last emptied.</summary>
    public long Pairs { get; private set; }

    public void Add(TKey key, TValue value)
    {
        Pairs++;
        var id = _ids.IdOf(key);
        if (id >= _epochOf.Length) GrowIds(id);
        var isNew = _epochOf[id] != _epoch;
        if (isNew)
        {
            _epochOf[id] = _epoch;
            _live.Add(id);
            Bytes += KeyOverhead + _keySize.Of(key);
        }
        var size = _valueSize.Of(value);
        Bytes += size;
        if (combine is null)
        {
            if (_pairCount == _pairIds.Length)
            {
                Array.Resize(ref _pairIds, _pairCount * 2);
                Array.Resize(ref _pairValues, _pairCount * 2);
            }
            _pairIds[_pairCount] = id;
            _pairValues[_pairCount++] = value;
            Bytes += sizeof(int);
            return;
        }
        if (isNew)
        {
            _single[id] = value;
            _batches[id]?.Clear(); // a list from an earlier task is kept for this key's next repeat
            return;
        }
        var batch = _batches[id] ??= new List<TValue>(CombineBatch);
        if (batch.Count == 0) batch.Add(_single[id]);
        batch.Add(value);
        if (batch.Count < CombineBatch) return;
        var folded = combine(key, batch);
        Bytes -= (long)(batch.Count - 1) * size;
        batch.Clear();
        batch.Add(folded);
    }

    private void GrowIds(int id)
    {
        var size = Math.Max(id + 1, _epochOf.Length * 2);
        Array.Resize(ref _epochOf, size);
        if (combine is null) return;
        Array.Resize(ref _single, size);
        Array.Resize(ref _batches, size);
    }

    /// <summary>Every (key, value) held, in the order they came (without Combine); for moving to a <see cref="SortArena{TKey,TValue}"/>.</summary>
    public IEnumerable<(TKey Key, TValue Value)> HeldPairs()
    {
        if (combine is not null) throw new InvalidOperationException("pairs that Combine folded are not kept one by one");
        for (var i = 0; i < _pairCount; i++) yield return (_ids.KeyOf(_pairIds[i]), _pairValues[i]);
    }

    /// <summary>
    /// Writes what the table holds as one run per partition (<paramref name="writerFor"/> is
    /// called once per non-empty partition, in partition order), then empties it.
    /// </summary>
    /// <param name="defaultHash">Whether <paramref name="partitionOf"/> is the stable hash partitioner, which the table may answer from the hash it keeps.</param>
    public void WriteRuns(Func<TKey, int> partitionOf, bool defaultHash, int partitions, Func<int, RunWriter> writerFor, Action<int, RunWriter> done)
    {
        int PartitionOf(int id) => defaultHash && _ids.HashPartition(id, partitions) is var p and >= 0 ? p : partitionOf(_ids.KeyOf(id));
        // The live keys in the order they are written: by partition, then key.
        int[] order;
        ByteWriter keys = new(_live.Count * 16 + 16);
        SortEntry[] entries;
        if (_keyFormat.IsOrdered)
        {
            // Sorted by their bytes, as runs are merged: for strings that is ordinal order.
            entries = new SortEntry[_live.Count];
            for (var i = 0; i < _live.Count; i++)
            {
                var id = _live[i];
                var offset = keys.Length;
                _keyFormat.Write(keys, _ids.KeyOf(id));
                var length = keys.Length - offset;
                entries[i] = new SortEntry(KeyBytes.Prefix(keys.Buffer.AsSpan(offset, length)), PartitionOf(id), offset, length, id);
            }
            SortEntrySort.Sort(entries, keys.Buffer);
        }
        else
        {
            var keyOrder = KeyOrder.For<TKey>();
            var sorted = _live.Select(id => (Partition: PartitionOf(id), Id: id)).ToList();
            sorted.Sort((a, b) => a.Partition != b.Partition ? a.Partition.CompareTo(b.Partition) : keyOrder.Compare(_ids.KeyOf(a.Id), _ids.KeyOf(b.Id)));
            entries = new SortEntry[sorted.Count];
            for (var i = 0; i < sorted.Count; i++)
            {
                var offset = keys.Length;
                _keyFormat.Write(keys, _ids.KeyOf(sorted[i].Id));
                entries[i] = new SortEntry(0, sorted[i].Partition, offset, keys.Length - offset, sorted[i].Id);
            }
        }
        order = new int[entries.Length];
        for (var i = 0; i < entries.Length; i++) order[i] = entries[i].Item;

        var (grouped, ends) = combine is null ? GroupPairs(order) : (null, null);
        var segment = new ByteWriter(1024);
        var next = 0;
        while (next < entries.Length)
        {
            var partition = entries[next].Partition;
            var writer = writerFor(partition);
            for (; next < entries.Length && entries[next].Partition == partition; next++)
            {
                var e = entries[next];
                var key = keys.Buffer.AsSpan(e.KeyOffset, e.KeyLength);
                if (grouped is null) WriteCombined(writer, key, e.Item, segment);
                else WriteValues(writer, key, grouped, next == 0 ? 0 : ends![next - 1], ends![next], segment);
            }
            done(partition, writer);
        }
        Empty();
    }

    /// <summary>The pairs' values grouped by key in <paramref name="order"/> (a counting sort, so each key's values keep the order they came), and where each key's values end.</summary>
    private (TValue[] Values, int[] Ends) GroupPairs(int[] order)
    {
        var start = new int[_ids.Count];
        for (var i = 0; i < _pairCount; i++) start[_pairIds[i]]++;
        var ends = new int[order.Length];
        var offset = 0;
        for (var i = 0; i < order.Length; i++)
        {
            var count = start[order[i]];
            start[order[i]] = offset;
            offset += count;
            ends[i] = offset;
        }
        var values = new TValue[_pairCount];
        for (var i = 0; i < _pairCount; i++) values[start[_pairIds[i]]++] = _pairValues[i];
        return (values, ends);
    }

    private void WriteCombined(RunWriter writer, ReadOnlySpan<byte> key, int id, ByteWriter segment)
    {
        segment.Clear();
        var batch = _batches[id];
        var value = batch is not { Count: > 0 } ? _single[id] : batch.Count == 1 ? batch[0] : combine!(_ids.KeyOf(id), batch);
        _valueCodec.Write(segment, value);
        writer.WriteSegment(key, 1, segment.Written);
    }

    private void WriteValues(RunWriter writer, ReadOnlySpan<byte> key, TValue[] values, int from, int to, ByteWriter segment)
    {
        segment.Clear();
        var count = 0;
        for (var i = from; i < to; i++)
        {
            _valueCodec.Write(segment, values[i]);
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

    /// <summary>Starts a new epoch: no key holds a value any more; the keys themselves are kept unless there are too many.</summary>
    public void Empty()
    {
        Bytes = 0;
        Pairs = 0;
        _live.Clear();
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TValue>()) Array.Clear(_pairValues, 0, _pairCount);
        _pairCount = 0;
        if (_ids.Count > KeptKeys || _epoch == int.MaxValue)
        {
            _ids.Clear();
            Array.Clear(_epochOf);
            if (combine is not null)
            {
                Array.Clear(_single);
                Array.Clear(_batches);
            }
            _epoch = 0;
        }
        _epoch++;
    }
}
