using System.Runtime.InteropServices;

namespace MapReduce.Storage.Records;

/// <summary>
/// Collects the pairs one map task emits and turns them into one sorted run per partition.
/// With a combine function, values of a key are folded as they arrive (every
/// <see cref="CombineBatch"/> values), so memory holds about one value per distinct key. Once more
/// than <c>spillLimit</c> entries are buffered, they are sorted and spilled to disk as runs; the
/// final runs are a streaming merge of the spills, so a map task's memory stays bounded whatever
/// its chunk produces.
/// </summary>
/// <remarks>
/// A worker reuses one buffer for task after task (<see cref="Reset"/>). Emptying it keeps the
/// keys in its table (up to <c>spillLimit</c> of them) and only marks their values as gone: the
/// next task's words are mostly the same, so they find their key already there instead of
/// inserting a new one, and the garbage collector does not promote (copy) a fresh table and
/// fresh key strings for every task. Measured in one process: 13% less CPU over 16 tasks.
/// </remarks>
public sealed class MapOutputBuffer<TKey, TValue> where TKey : notnull
{
    /// <summary>Values a key collects before they are combined into one.</summary>
    public const int CombineBatch = 32;

    private readonly int _partitions;
    private readonly Func<TKey, IEnumerable<TValue>, TValue>? _combine;
    private readonly int _spillLimit;
    private string _spillFolder;
    private readonly Partitioner<TKey> _partitioner;
    private readonly IComparer<TKey> _order = KeyOrder.For<TKey>();
    private readonly Dictionary<TKey, Group> _groups;
    private readonly List<KeyValuePair<TKey, TValue>> _pairs = [];
    private readonly List<string?[]> _spills = [];
    private int _buffered;
    /// <summary>A group holds a value of the current task (or spill) only when its Epoch is this one.</summary>
    private int _epoch = 1;

    public MapOutputBuffer(int partitions, Func<TKey, IEnumerable<TValue>, TValue>? combine, int spillLimit, string spillFolder)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(spillLimit, 1);
        _partitions = partitions;
        _combine = combine;
        _spillLimit = spillLimit;
        _spillFolder = spillFolder;
        _partitioner = new Partitioner<TKey>(partitions);
        _groups = new Dictionary<TKey, Group>(KeyOrder.EqualityFor<TKey>());
    }

    /// <summary>Runs spilled to disk so far (each spill writes one run per non-empty partition).</summary>
    public int Spills => _spills.Count;

    /// <summary>Pairs written to spill files by this task (the final runs not included).</summary>
    public long SpilledPairs { get; private set; }

    /// <summary>Empties the buffer for another task, which spills into <paramref name="spillFolder"/>; keeps the known keys.</summary>
    public void Reset(string spillFolder)
    {
        _spillFolder = spillFolder;
        _spills.Clear();
        SpilledPairs = 0;
        _pairs.Clear();
        EmptyGroups();
    }

    public void Add(TKey key, TValue value)
    {
        if (_combine is null)
        {
            _pairs.Add(new(key, value));
            if (++_buffered >= _spillLimit) Spill();
            return;
        }
        ref var group = ref CollectionsMarshal.GetValueRefOrAddDefault(_groups, key, out var exists);
        if (!exists || group.Epoch != _epoch)
        {
            group.Epoch = _epoch;
            group.Single = value;
            group.Values?.Clear(); // a list from an earlier task is kept for this key's next repeat
            if (++_buffered >= _spillLimit) Spill();
            return;
        }
        if (group.Values is null) group.Values = new List<TValue>(CombineBatch) { group.Single, value };
        else if (group.Values.Count == 0)
        {
            group.Values.Add(group.Single);
            group.Values.Add(value);
        }
        else group.Values.Add(value);
        if (group.Values.Count >= CombineBatch) Fold(key, group.Values);
    }

    /// <summary>
    /// A key's values so far: most keys of a task are seen once, and keep their value inline
    /// without a list; a second value starts the list that is folded every CombineBatch values
    /// (an empty list, kept from an earlier task, counts as none).
    /// </summary>
    private struct Group
    {
        public int Epoch;
        public TValue Single;
        public List<TValue>? Values;

        public readonly TValue Folded(Func<TKey, IEnumerable<TValue>, TValue> combine, TKey key) =>
            Values is null || Values.Count == 0 ? Single : Values.Count == 1 ? Values[0] : combine(key, Values);
    }

    /// <summary>
    /// Writes one sorted run per non-empty partition to <c>openRun(partition)</c> and returns the
    /// pairs written per partition. Deletes the spill files it merged.
    /// </summary>
    public int[] WriteRuns(Func<int, Stream> openRun)
    {
        var counts = new int[_partitions];
        if (_spills.Count == 0)
        {
            var sorted = SortedPartitions();
            for (var p = 0; p < _partitions; p++)
            {
                if (sorted[p].Count == 0) continue;
                using var run = openRun(p);
                SortedRun.WriteSorted(run, sorted[p]);
                counts[p] = sorted[p].Count;
            }
            return counts;
        }
        if (_buffered > 0) Spill();
        for (var p = 0; p < _partitions; p++)
        {
            var files = _spills.Select(s => s[p]).OfType<string>().ToList();
            if (files.Count == 0) continue;
            var streams = files.Select(f => (Stream)new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16)).ToList();
            try
            {
                var merged = RunMerger.Merge(streams.Select(SortedRun.Read<TKey, TValue>).ToList());
                using var run = openRun(p);
                var counter = new Counter<KeyValuePair<TKey, TValue>>(_combine is null ? merged : CombineGroups(merged));
                SortedRun.WriteSorted(run, counter.Items());
                counts[p] = counter.Count;
            }
            finally
            {
                foreach (var s in streams) s.Dispose();
            }
            foreach (var f in files) File.Delete(f);
        }
        return counts;
    }

    private void Fold(TKey key, List<TValue> values)
    {
        var folded = _combine!(key, values);
        values.Clear();
        values.Add(folded);
    }

    private IEnumerable<KeyValuePair<TKey, TValue>> CombineGroups(IEnumerable<KeyValuePair<TKey, TValue>> sorted)
    {
        var batch = new List<TValue>();
        foreach (var (key, values) in RunMerger.Groups(sorted))
        {
            batch.Clear();
            batch.AddRange(values);
            yield return new(key, batch.Count == 1 ? batch[0] : _combine!(key, batch));
        }
    }

    /// <summary>The buffered entries split by partition, each in key order (equal keys in emission order), and the buffer emptied.</summary>
    private List<KeyValuePair<TKey, TValue>>[] SortedPartitions()
    {
        var parts = new List<KeyValuePair<TKey, TValue>>[_partitions];
        for (var p = 0; p < _partitions; p++) parts[p] = [];
        if (_combine is null)
        {
            foreach (var pair in _pairs) parts[_partitioner.PartitionOf(pair.Key)].Add(pair);
            _pairs.Clear();
        }
        else
        {
            foreach (var (key, group) in _groups)
                if (group.Epoch == _epoch) parts[_partitioner.PartitionOf(key)].Add(new(key, group.Folded(_combine, key)));
            EmptyGroups();
        }
        _buffered = 0;
        // Keys are unique per partition with a combine function; without one, a stable sort keeps equal keys in emission order.
        var order = _order;
        foreach (var part in parts)
        {
            if (_combine is not null) part.Sort((a, b) => order.Compare(a.Key, b.Key));
            else KeyOrder.SortStable(part);
        }
        return parts;
    }

    /// <summary>Marks every group's value as gone (a new epoch), keeping keys unless there are more than the spill limit.</summary>
    private void EmptyGroups()
    {
        _buffered = 0;
        if (_groups.Count > _spillLimit || _epoch == int.MaxValue)
        {
            _groups.Clear();
            _groups.TrimExcess();
            _epoch = 0;
        }
        _epoch++;
    }

    private void Spill()
    {
        var sorted = SortedPartitions();
        var files = new string?[_partitions];
        for (var p = 0; p < _partitions; p++)
        {
            if (sorted[p].Count == 0) continue;
            var file = files[p] = Path.Combine(_spillFolder, $"spill-{_spills.Count:D4}-p{p:D5}");
            using var run = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            SortedRun.WriteSorted(run, sorted[p]);
            SpilledPairs += sorted[p].Count;
        }
        _spills.Add(files);
    }

    private sealed class Counter<T>(IEnumerable<T> source)
    {
        public int Count { get; private set; }

        public IEnumerable<T> Items()
        {
            foreach (var item in source)
            {
                Count++;
                yield return item;
            }
        }
    }
}
