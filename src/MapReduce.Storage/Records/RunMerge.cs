namespace MapReduce.Storage.Records;

/// <summary>
/// Streaming k-way merge of sorted runs, key by key: <see cref="NextKey"/> moves to the next
/// distinct key of all runs, <see cref="NextSegment"/> hands out that key's segments, those of the
/// first run first (and a run's own consecutive segments in order), so values keep the order of
/// the runs. Holds one segment per run in memory, never a whole partition. Keys of an ordered
/// <see cref="KeyFormat{TKey}"/> are compared as bytes (8-byte prefix first); others are decoded
/// once per segment and compared in <see cref="KeyOrder"/>.
/// </summary>
public sealed class RunMerge<TKey> : IDisposable
{
    private readonly RunReader[] _runs;
    private readonly KeyFormat<TKey> _format = KeyFormat<TKey>.Instance;
    private readonly bool _ordered;
    private readonly IComparer<TKey> _order = KeyOrder.For<TKey>();
    private readonly IEqualityComparer<TKey> _equal = KeyOrder.EqualityFor<TKey>();
    private readonly TKey[] _decoded;
    /// <summary>A binary min-heap of run indexes, by (key, run index).</summary>
    private readonly int[] _heap;
    private int _heapCount;
    private readonly ByteWriter _key = new(64);
    private TKey _currentKey = default!;
    private int _active = -1;
    private bool _hasKey;

    public RunMerge(IReadOnlyList<RunReader> runs)
    {
        _runs = [.. runs];
        _ordered = _format.IsOrdered;
        _decoded = new TKey[_runs.Length];
        _heap = new int[_runs.Length];
        for (var i = 0; i < _runs.Length; i++)
            if (Advance(i)) Push(i);
    }

    /// <summary>Counts the keys moved to: what was handed out for one key is stale once it changes.</summary>
    public long KeyNumber { get; private set; }

    /// <summary>The current key's bytes (valid until the next <see cref="NextKey"/>).</summary>
    public ReadOnlySpan<byte> Key => _key.Written;

    /// <summary>The current key, decoded (once per key).</summary>
    public TKey DecodedKey => _ordered ? _format.Read(_key.Written) : _currentKey;

    /// <summary>Moves to the next distinct key, skipping what was not read of the current one; false when every run is done.</summary>
    public bool NextKey()
    {
        while (NextSegment(out _)) { }
        _hasKey = _heapCount > 0;
        KeyNumber++;
        if (!_hasKey) return false;
        var first = _heap[0];
        _key.Clear();
        _key.Write(_runs[first].Key);
        if (!_ordered) _currentKey = _decoded[first];
        _active = -1;
        return true;
    }

    /// <summary>The next segment of the current key (its run, positioned on it), or false when the key has no more.</summary>
    public bool NextSegment(out RunReader segment)
    {
        segment = null!;
        if (!_hasKey) return false;
        if (_active >= 0)
        {
            var run = _active;
            _active = -1;
            if (Advance(run))
            {
                if (IsCurrentKey(run))
                {
                    _active = run;
                    segment = _runs[run];
                    return true;
                }
                Push(run);
            }
        }
        if (_heapCount > 0 && IsCurrentKey(_heap[0]))
        {
            _active = Pop();
            segment = _runs[_active];
            return true;
        }
        return false;
    }

    /// <summary>Merges runs into one run, segments copied as they are (a reduce with more runs than it opens at once merges them in batches first).</summary>
    public static long MergeInto(IReadOnlyList<Stream> runs, Stream output, bool compress = false)
    {
        using var merge = new RunMerge<TKey>(runs.Select(r => new RunReader(r)).ToList());
        var writer = new RunWriter(output, compress);
        while (merge.NextKey())
            while (merge.NextSegment(out var segment)) writer.WriteSegment(merge.Key, segment.ValueCount, segment.Values);
        writer.Complete();
        return writer.Values;
    }

    private bool Advance(int run)
    {
        if (!_runs[run].MoveNext()) return false;
        if (!_ordered) _decoded[run] = _format.Read(_runs[run].Key);
        return true;
    }

    private bool IsCurrentKey(int run) =>
        _ordered ? _runs[run].Key.SequenceEqual(_key.Written) : _equal.Equals(_decoded[run], _currentKey);

    private int Compare(int a, int b)
    {
        int c;
        if (_ordered)
        {
            var (x, y) = (_runs[a], _runs[b]);
            c = x.Prefix != y.Prefix ? (x.Prefix < y.Prefix ? -1 : 1) : KeyBytes.Compare(x.Key, y.Key);
        }
        else
        {
            c = _order.Compare(_decoded[a], _decoded[b]);
        }
        return c != 0 ? c : a.CompareTo(b);
    }

    private void Push(int run)
    {
        var i = _heapCount++;
        _heap[i] = run;
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (Compare(_heap[parent], _heap[i]) <= 0) break;
            (_heap[parent], _heap[i]) = (_heap[i], _heap[parent]);
            i = parent;
        }
    }

    private int Pop()
    {
        var top = _heap[0];
        _heap[0] = _heap[--_heapCount];
        var i = 0;
        while (true)
        {
            var left = 2 * i + 1;
            if (left >= _heapCount) break;
            var smaller = left + 1 < _heapCount && Compare(_heap[left + 1], _heap[left]) < 0 ? left + 1 : left;
            if (Compare(_heap[i], _heap[smaller]) <= 0) break;
            (_heap[i], _heap[smaller]) = (_heap[smaller], _heap[i]);
            i = smaller;
        }
        return top;
    }

    public void Dispose()
    {
        foreach (var run in _runs) run.Dispose();
    }
}
