namespace MapReduce.Storage.Records;

/// <summary>
/// Collects the pairs one map task emits and turns them into one sorted run per partition, in
/// memory bounded by bytes: past <c>limitBytes</c> what it holds is sorted and spilled to a file,
/// and the runs are a streaming merge of the spills.
/// </summary>
/// <remarks>
/// Pairs first go into a <see cref="GroupingTable{TKey,TValue}"/>, which groups a key's values
/// (and folds them with Combine), so repeated keys cost a hash lookup and are written once. When
/// the script has no Combine and the first <see cref="DecideAfter"/> pairs show mostly distinct
/// keys, grouping buys nothing, and the buffer moves to a <see cref="SortArena{TKey,TValue}"/> of
/// serialized pairs for the rest of the task (and the next tasks it is reused for). Both write the
/// same runs, so the reduce cannot tell. A worker reuses one buffer for task after task
/// (<see cref="Reset"/>).
/// </remarks>
public sealed class MapOutputBuffer<TKey, TValue> where TKey : notnull
{
    /// <summary>Pairs after which a buffer without Combine decides whether grouping pays.</summary>
    public const int DecideAfter = 16_384;

    private readonly int _partitions;
    private readonly Func<TKey, int> _partitionOf;
    private readonly bool _defaultHash;
    private readonly Func<TKey, IEnumerable<TValue>, TValue>? _combine;
    private readonly long _limitBytes;
    private readonly bool _compress;
    private string _spillFolder;
    private readonly GroupingTable<TKey, TValue> _table;
    private readonly bool _mayUseArena;
    private SortArena<TKey, TValue>? _arena;
    private bool _decided;
    private readonly List<SpillFile> _spills = [];
    /// <summary>Pairs and distinct keys (per spill) the table held before its spills in this task: what the choice of mode looks at.</summary>
    private long _spilledTablePairs, _spilledTableKeys;

    /// <param name="partitionOf">The key's partition, from 0 to <paramref name="partitions"/> - 1 (a number outside fails the task, naming the key); null: the stable hash (<see cref="Partitioner{TKey}"/>).</param>
    /// <param name="combine">The script's Combine, or null.</param>
    /// <param name="limitBytes">Memory the buffer may hold (estimated for grouped objects, exact for the arena) before it spills.</param>
    /// <param name="compressRuns">Whether runs and spills are LZ4 frames (mapreduce.shuffle-compression).</param>
    public MapOutputBuffer(int partitions, Func<TKey, int>? partitionOf, Func<TKey, IEnumerable<TValue>, TValue>? combine, long limitBytes, string spillFolder, bool compressRuns = false)
    {
        _compress = compressRuns;
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(limitBytes, 1);
        _partitions = partitions;
        _defaultHash = partitionOf is null;
        partitionOf ??= new Partitioner<TKey>(partitions).PartitionOf;
        _partitionOf = key =>
        {
            var p = partitionOf(key);
            return (uint)p < (uint)partitions ? p : throw new PartitionOutOfRangeException(key, p, partitions);
        };
        _combine = combine;
        _limitBytes = limitBytes;
        _spillFolder = spillFolder;
        _table = new GroupingTable<TKey, TValue>(combine);
        _mayUseArena = combine is null && KeyFormat<TKey>.Instance.IsOrdered;
    }

    /// <summary>Times the buffer spilled to disk in this task.</summary>
    public int Spills { get; private set; }

    /// <summary>Pairs written to spill files by this task (the final runs not included).</summary>
    public long SpilledPairs { get; private set; }

    /// <summary>Whether pairs are kept serialized (mostly distinct keys) rather than grouped.</summary>
    public bool Serialized => _arena is not null;

    /// <summary>Bytes held now.</summary>
    public long Bytes => _arena?.Bytes ?? _table.Bytes;

    /// <summary>Empties the buffer for another task, which spills into <paramref name="spillFolder"/>; keeps what it learned (known keys, the chosen mode).</summary>
    public void Reset(string spillFolder)
    {
        foreach (var spill in _spills) spill.Delete();
        _spills.Clear();
        _spillFolder = spillFolder;
        SpilledPairs = 0;
        Spills = 0;
        _spilledTablePairs = _spilledTableKeys = 0;
        _table.Empty();
        _arena?.Empty();
        _decided = _arena is not null;
    }

    public void Add(TKey key, TValue value)
    {
        if (_arena is not null)
        {
            _arena.Add(key, value, _partitionOf(key));
            if (_arena.Bytes >= _limitBytes) Spill();
            return;
        }
        _table.Add(key, value);
        if (!_decided && _spilledTablePairs + _table.Pairs >= DecideAfter) Decide();
        else if (_table.Bytes >= _limitBytes) Spill();
    }

    /// <summary>Moves to the arena when most keys so far were new ones: hashing them bought no grouping.</summary>
    private void Decide()
    {
        _decided = true;
        if (!_mayUseArena || (_spilledTableKeys + _table.Keys) * 2 <= _spilledTablePairs + _table.Pairs) return;
        _arena = new SortArena<TKey, TValue>();
        foreach (var (key, value) in _table.HeldPairs()) _arena.Add(key, value, _partitionOf(key));
        _table.Empty();
    }

    private void Spill()
    {
        if (_arena is null)
        {
            _spilledTablePairs += _table.Pairs;
            _spilledTableKeys += _table.Keys;
        }
        var path = Path.Combine(_spillFolder, $"spill-{_spills.Count:D4}-{Guid.NewGuid():N}");
        var spill = SpillFile.Write(path, _partitions, _compress, WriteHeld);
        _spills.Add(spill);
        Spills++;
        SpilledPairs += spill.Pairs;
    }

    private void WriteHeld(Func<int, RunWriter> writerFor, Action<int, RunWriter> done)
    {
        if (_arena is not null) _arena.WriteRuns(writerFor, done);
        else _table.WriteRuns(_partitionOf, _defaultHash, _partitions, writerFor, done);
    }

    private bool HoldsPairs => _arena is not null ? _arena.Count > 0 : _table.Keys > 0;

    /// <summary>
    /// Writes one sorted run per non-empty partition to <c>openRun(partition)</c> and returns the
    /// values written per partition (0 where none was written). Deletes the spill files it merged.
    /// </summary>
    public int[] WriteRuns(Func<int, Stream> openRun)
    {
        var counts = new int[_partitions];
        if (_spills.Count == 0)
        {
            var open = new Dictionary<int, Stream>();
            try
            {
                WriteHeld(p => new RunWriter(open[p] = openRun(p), _compress), (p, writer) =>
                {
                    writer.Complete();
                    counts[p] = checked((int)writer.Values);
                    open.Remove(p, out var stream);
                    stream!.Dispose();
                });
            }
            finally
            {
                foreach (var stream in open.Values) stream.Dispose();
            }
            return counts;
        }
        if (HoldsPairs) Spill();
        for (var p = 0; p < _partitions; p++)
        {
            var sources = _spills.Where(s => s.Holds(p)).ToList();
            if (sources.Count == 0) continue;
            using var output = openRun(p);
            counts[p] = checked((int)Merge(sources.Select(s => s.Open(p)).ToList(), output));
        }
        foreach (var spill in _spills) spill.Delete();
        _spills.Clear();
        return counts;
    }

    /// <summary>Merges one partition's spilled runs into one run; with Combine a key's values across spills are folded into one.</summary>
    private long Merge(List<Stream> runs, Stream output)
    {
        if (_combine is null) return RunMerge<TKey>.MergeInto(runs, output, _compress);
        using var merge = new RunMerge<TKey>(runs.Select(r => new RunReader(r)).ToList());
        var writer = new RunWriter(output, _compress);
        var codec = Codec.For<TValue>();
        var values = new List<TValue>();
        var folded = new ByteWriter();
        while (merge.NextKey())
        {
            values.Clear();
            while (merge.NextSegment(out var segment))
            {
                var reader = new ByteReader(segment.Values);
                for (var i = 0; i < segment.ValueCount; i++) values.Add(codec.Read(ref reader));
            }
            folded.Clear();
            codec.Write(folded, values.Count == 1 ? values[0] : _combine(merge.DecodedKey, values));
            writer.WriteSegment(merge.Key, 1, folded.Written);
        }
        writer.Complete();
        return writer.Values;
    }
}
