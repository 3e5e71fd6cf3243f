using System.Reflection;
using System.Text;
using MapReduce.Storage.Records;

namespace MapReduce.Actors.UserCode;

/// <summary>The typed side of a compiled script: all map/reduce work runs here without reflection.</summary>
internal sealed class CompiledTask<TKey, TValue, TResult> : IUserTask where TKey : notnull
{
    private readonly Func<string, string, IEnumerable<(TKey, TValue)>>? _map;
    /// <summary>Map over a record of another input format than text lines (its type is <see cref="RecordType"/>).</summary>
    private readonly Func<string, object, IEnumerable<(TKey, TValue)>>? _recordMap;
    private readonly Func<TKey, IEnumerable<TValue>, TResult>? _reduce;
    private readonly Func<TKey, IEnumerable<TValue>, IEnumerable<string>>? _reduceLines;
    private readonly Func<IDictionary<TKey, List<TValue>>, IEnumerable<(TKey, TResult)>>? _reducer;
    private readonly Func<TKey, IEnumerable<TValue>, TValue>? _combine;
    private readonly Func<TKey, int, int>? _partition;

    /// <summary>Keys a key sample holds at most: enough for quantiles, however many pairs Map yields per line.</summary>
    public const int MaxSampledKeys = 1_000_000;

    public CompiledTask(object submission, UserFunctions functions)
    {
        RecordType = functions.Map.GetParameters()[1].ParameterType;
        if (RecordType == typeof(string)) _map = Bind<Func<string, string, IEnumerable<(TKey, TValue)>>>(submission, functions.Map)!;
        else _recordMap = (Func<string, object, IEnumerable<(TKey, TValue)>>)typeof(CompiledTask<TKey, TValue, TResult>)
            .GetMethod(nameof(RecordMap), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(RecordType).Invoke(null, [submission, functions.Map])!;
        _reduce = Bind<Func<TKey, IEnumerable<TValue>, TResult>>(submission, functions.Reduce);
        _reduceLines = Bind<Func<TKey, IEnumerable<TValue>, IEnumerable<string>>>(submission, functions.ReduceLines);
        _reducer = _reduce is null && _reduceLines is null ? Bind<Func<IDictionary<TKey, List<TValue>>, IEnumerable<(TKey, TResult)>>>(submission, functions.Reducer) : null;
        _combine = Bind<Func<TKey, IEnumerable<TValue>, TValue>>(submission, functions.Combine);
        _partition = Bind<Func<TKey, int, int>>(submission, functions.Partition);
        UsesTotalOrder = functions.UsesTotalOrder;
    }

    public bool UsesTotalOrder { get; }

    public Type RecordType { get; }

    /// <summary>Map over records of <typeparamref name="TRecord"/>, called with the record as an object (the reader's records are typed at run time).</summary>
    private static Func<string, object, IEnumerable<(TKey, TValue)>> RecordMap<TRecord>(object submission, MethodInfo method)
    {
        var map = Bind<Func<string, TRecord, IEnumerable<(TKey, TValue)>>>(submission, method)!;
        return (docId, record) => map(docId, (TRecord)record);
    }

    public KeyRanges SampleKeyRanges(IEnumerable<(string DocId, string Text)> sample, int reducers, string where)
    {
        var keys = new List<TKey>();
        if (_map is null) throw new CompileErrorException($"TotalOrder samples keys from text lines, and this Map reads {RecordType.Name} records (--input-format {Storage.Chunking.InputFormats.Name(MapRecords.FormatOf(RecordType))}); partition with a Partition of your own instead");
        Guard("Map", where, () =>
        {
            foreach (var (docId, text) in sample)
                foreach (var (key, _) in _map!(docId, text))
                {
                    if (key is null) throw new InvalidOperationException("Map yielded a null key");
                    keys.Add(key);
                    if (keys.Count == MaxSampledKeys) return;
                }
        });
        return KeyRanges<TKey>.FromSample(keys, reducers);
    }

    public KeyRanges ReadKeyRanges(ReadOnlySpan<byte> encoded) => KeyRanges<TKey>.Read(encoded);

    public Type KeyType => typeof(TKey);
    public Type ValueType => typeof(TValue);
    public Type ResultType => typeof(TResult);
    public bool HasCombine => _combine is not null;
    public bool HasPartition => _partition is not null;

    private static TDelegate? Bind<TDelegate>(object submission, MethodInfo? method) where TDelegate : Delegate =>
        method is null ? null
        : method.IsStatic ? (TDelegate)method.CreateDelegate(typeof(TDelegate))
        : (TDelegate)method.CreateDelegate(typeof(TDelegate), submission);

    public IMapOutput NewMapOutput(int partitions, long limitBytes, string spillFolder, bool compressRuns = false) =>
        new MapOutput(new MapOutputBuffer<TKey, TValue>(partitions, PartitionOf(partitions), GuardedCombine(), limitBytes, spillFolder, compressRuns));

    /// <summary>The script's Partition (what it throws is marked, so the error names Partition and the key), or null for the stable hash.</summary>
    private Func<TKey, int>? PartitionOf(int partitions)
    {
        if (_partition is not { } partition) return null;
        return key =>
        {
            try { return partition(key, partitions); }
            catch (Exception e) { throw new UserFunctionFailedException("Partition", OutputFormat.Text(key), e); }
        };
    }

    /// <summary>Combine as the buffer calls it: what it throws is marked, so the error names Combine and the key, not Map.</summary>
    private Func<TKey, IEnumerable<TValue>, TValue>? GuardedCombine()
    {
        var combine = _combine;
        if (combine is null) return null;
        return (key, values) =>
        {
            try { return combine(key, values); }
            catch (Exception e) { throw new UserFunctionFailedException("Combine", OutputFormat.Text(key), e); }
        };
    }

    /// <summary>A function the engine calls on a key (Combine, Partition) threw.</summary>
    private sealed class UserFunctionFailedException(string function, string key, Exception inner) : Exception(inner.Message, inner)
    {
        public string Function => function;
        public string Key => key;
    }

    public long RunMap(string docId, string chunk, IMapOutput output, string where, CancellationToken stop = default)
    {
        var buffer = ((MapOutput)output).Buffer;
        var map = _map ?? throw new InvalidOperationException($"this task's Map reads {RecordType.Name} records, not text lines");
        long pairs = 0;
        Guard("Map", where, () =>
        {
            long yielded = 0; // a local, not the captured one, in the hot loop
            foreach (var (key, value) in map(docId, chunk))
            {
                if (key is null) throw new InvalidOperationException("Map yielded a null key");
                buffer.Add(key, value);
                if ((++yielded & 1023) == 0) stop.ThrowIfCancellationRequested();
            }
            pairs = yielded;
        });
        return pairs;
    }

    public long RunMapByLine(string docId, string text, long firstLine, IMapOutput output, string where, Func<long, bool> skip, Action<long> mapping, CancellationToken stop = default)
    {
        var map = _map ?? throw new InvalidOperationException($"this task's Map reads {RecordType.Name} records, not text lines");
        var buffer = ((MapOutput)output).Buffer;
        var linePairs = new List<(TKey Key, TValue Value)>();
        long pairs = 0;
        Guard("Map", where, () =>
        {
            var line = firstLine - 1;
            for (var start = 0; start < text.Length;)
            {
                stop.ThrowIfCancellationRequested();
                var newline = text.IndexOf('\n', start);
                var end = newline < 0 ? text.Length : newline + 1;
                line++;
                if (!skip(line))
                {
                    mapping(line);
                    // Held until Map returns: a line it throws on adds nothing.
                    linePairs.Clear();
                    try
                    {
                        foreach (var (key, value) in map(docId, text[start..end]))
                        {
                            if (key is null) throw new InvalidOperationException("Map yielded a null key");
                            linePairs.Add((key, value));
                        }
                    }
                    catch (Exception e) when (e is not IOException and not OperationCanceledException)
                    {
                        var inner = e is TargetInvocationException { InnerException: not null } t ? t.InnerException! : e;
                        throw new UserCodeException($"Map threw on {where}, line {line}: {inner.GetType().Name}: {inner.Message}", inner, line);
                    }
                    foreach (var (key, value) in linePairs) buffer.Add(key, value);
                    pairs += linePairs.Count;
                }
                start = end;
            }
        });
        return pairs;
    }

    /// <summary>Map over records of a format other than text lines (--input-format): one call per record.</summary>
    public long RunMapRecords(string docId, IEnumerable<object> records, IMapOutput output, string where, CancellationToken stop = default)
    {
        var map = _recordMap ?? throw new InvalidOperationException("this task's Map reads text lines");
        var buffer = ((MapOutput)output).Buffer;
        long pairs = 0;
        using var reading = records.GetEnumerator();
        while (true)
        {
            // A record that cannot be read is the input's fault, not Map's: it leaves this loop as it was thrown.
            if (!reading.MoveNext()) break;
            var record = reading.Current;
            Guard("Map", where, () =>
            {
                foreach (var (key, value) in map(docId, record))
                {
                    if (key is null) throw new InvalidOperationException("Map yielded a null key");
                    buffer.Add(key, value);
                    pairs++;
                }
            });
            stop.ThrowIfCancellationRequested();
        }
        return pairs;
    }

    private sealed class MapOutput(MapOutputBuffer<TKey, TValue> buffer) : IMapOutput
    {
        public MapOutputBuffer<TKey, TValue> Buffer => buffer;
        public int Spills => buffer.Spills;
        public long SpilledPairs => buffer.SpilledPairs;

        public void Reset(string spillFolder) => buffer.Reset(spillFolder);

        public int[] WriteRuns(Func<int, Stream> openRun, string where)
        {
            var counts = Array.Empty<int>();
            Guard("Combine", where, () => counts = buffer.WriteRuns(openRun));
            return counts;
        }
    }

    public ReduceCounts RunReduce(IReadOnlyList<Stream> runs, Stream output, string where, CancellationToken stop = default, long wholePartitionLimit = long.MaxValue)
    {
        if (_reducer is not null) return RunReducer(runs, output, where, wholePartitionLimit);
        using var merge = new RunMerge<TKey>(runs.Select(r => new RunReader(r)).ToList());
        using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        long lines = 0, groups = 0;
        TKey? current = default;
        var function = _reduce is not null ? "Reduce" : "ReduceLines";
        Guard(function, where, () =>
        {
            while (merge.NextKey())
            {
                stop.ThrowIfCancellationRequested();
                current = merge.DecodedKey;
                var values = new KeyValues<TKey, TValue>(merge);
                groups++;
                if (_reduce is not null)
                {
                    writer.WriteLine(OutputFormat.Line(current, _reduce(current, values)));
                    lines++;
                    continue;
                }
                foreach (var line in _reduceLines!(current, values))
                {
                    writer.Write(line);
                    writer.Write('\n');
                    lines++;
                }
            }
        }, () => current is null ? "" : $" at key '{OutputFormat.Text(current)}'");
        return new ReduceCounts(groups, lines);
    }

    public void MergeRuns(IReadOnlyList<Stream> runs, Stream output, bool compress) => RunMerge<TKey>.MergeInto(runs, output, compress);

    /// <summary>The whole-partition form: every pair of the partition in one dictionary, so its size is checked first.</summary>
    private ReduceCounts RunReducer(IReadOnlyList<Stream> runs, Stream output, string where, long limit)
    {
        var bytes = runs.Sum(r => r.Length);
        if (bytes > limit)
            throw new UserCodeException($"Reducer holds a whole partition in memory, and {where} holds {Megabytes(bytes)} of map output, over the limit of {Megabytes(limit)} (mapreduce.max-reducer-partition); define Reduce(key, values) instead, which streams, or run more reducers (--reducers)",
                new InvalidOperationException("partition too large for Reducer"));
        var all = new Dictionary<TKey, List<TValue>>(KeyOrder.EqualityFor<TKey>());
        using (var merge = new RunMerge<TKey>(runs.Select(r => new RunReader(r)).ToList()))
        {
            var codec = Codec.For<TValue>();
            while (merge.NextKey())
            {
                var key = merge.DecodedKey;
                if (!all.TryGetValue(key, out var values)) all[key] = values = [];
                while (merge.NextSegment(out var segment))
                {
                    var reader = new ByteReader(segment.Values);
                    for (var i = 0; i < segment.ValueCount; i++) values.Add(codec.Read(ref reader));
                }
            }
        }
        var groups = all.Count;
        var results = new List<(TKey Key, TResult Value)>();
        Guard("Reducer", where, () => results.AddRange(_reducer!(all)));
        var order = KeyOrder.For<TKey>();
        results.Sort((a, b) => order.Compare(a.Key, b.Key));
        using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        foreach (var (key, value) in results) writer.WriteLine(OutputFormat.Line(key, value));
        return new ReduceCounts(groups, results.Count);
    }

    private static string Megabytes(long bytes) => $"{bytes / 1_048_576.0:0.#} MiB";

    /// <summary>Runs user code and turns whatever it throws into one message naming where it happened.</summary>
    private static void Guard(string function, string where, Action action, Func<string>? detail = null)
    {
        try
        {
            action();
        }
        catch (UserFunctionFailedException f)
        {
            var inner = f.InnerException!;
            throw new UserCodeException($"{f.Function} threw on {where} at key '{f.Key}': {inner.GetType().Name}: {inner.Message}", inner);
        }
        catch (PartitionOutOfRangeException p)
        {
            throw new UserCodeException($"Partition returned {p.Partition} for key '{OutputFormat.Text(p.Key)}' on {where}; it must be from 0 to {p.Partitions - 1} (the job has {p.Partitions} reducers)", p);
        }
        catch (Exception e) when (e is not IOException and not OperationCanceledException and not UserCodeException)
        {
            var inner = e is TargetInvocationException { InnerException: not null } t ? t.InnerException! : e;
            throw new UserCodeException($"{function} threw on {where}{detail?.Invoke()}: {inner.GetType().Name}: {inner.Message}", inner);
        }
    }
}
