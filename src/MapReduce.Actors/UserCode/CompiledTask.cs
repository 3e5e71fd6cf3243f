using System.Reflection;
using System.Text;
using MapReduce.Storage.Records;

namespace MapReduce.Actors.UserCode;

/// <summary>The typed side of a compiled script: all map/reduce work runs here without reflection.</summary>
internal sealed class CompiledTask<TKey, TValue, TResult> : IUserTask where TKey : notnull
{
    private readonly Func<string, string, IEnumerable<(TKey, TValue)>> _map;
    private readonly Func<TKey, IEnumerable<TValue>, TResult>? _reduce;
    private readonly Func<IDictionary<TKey, List<TValue>>, IEnumerable<(TKey, TResult)>>? _reducer;
    private readonly Func<TKey, IEnumerable<TValue>, TValue>? _combine;

    public CompiledTask(object submission, MethodInfo map, MethodInfo? reduce, MethodInfo? reducer, MethodInfo? combine)
    {
        _map = Bind<Func<string, string, IEnumerable<(TKey, TValue)>>>(submission, map)!;
        _reduce = Bind<Func<TKey, IEnumerable<TValue>, TResult>>(submission, reduce);
        _reducer = reduce is null ? Bind<Func<IDictionary<TKey, List<TValue>>, IEnumerable<(TKey, TResult)>>>(submission, reducer) : null;
        _combine = Bind<Func<TKey, IEnumerable<TValue>, TValue>>(submission, combine);
    }

    public Type KeyType => typeof(TKey);
    public Type ValueType => typeof(TValue);
    public Type ResultType => typeof(TResult);
    public bool HasCombine => _combine is not null;

    private static TDelegate? Bind<TDelegate>(object submission, MethodInfo? method) where TDelegate : Delegate =>
        method is null ? null
        : method.IsStatic ? (TDelegate)method.CreateDelegate(typeof(TDelegate))
        : (TDelegate)method.CreateDelegate(typeof(TDelegate), submission);

    public IMapOutput NewMapOutput(int partitions, int spillLimit, string spillFolder) =>
        new MapOutput(new MapOutputBuffer<TKey, TValue>(partitions, GuardedCombine(), spillLimit, spillFolder));

    /// <summary>Combine as the buffer calls it: what it throws is marked, so the error names Combine and the key, not Map.</summary>
    private Func<TKey, IEnumerable<TValue>, TValue>? GuardedCombine()
    {
        var combine = _combine;
        if (combine is null) return null;
        return (key, values) =>
        {
            try { return combine(key, values); }
            catch (Exception e) { throw new CombineFailedException(OutputFormat.Text(key), e); }
        };
    }

    private sealed class CombineFailedException(string key, Exception inner) : Exception(inner.Message, inner)
    {
        public string Key => key;
    }

    public long RunMap(string docId, string chunk, IMapOutput output, string where, CancellationToken stop = default)
    {
        var buffer = ((MapOutput)output).Buffer;
        long pairs = 0;
        Guard("Map", where, () =>
        {
            long yielded = 0; // a local, not the captured one, in the hot loop
            foreach (var (key, value) in _map(docId, chunk))
            {
                if (key is null) throw new InvalidOperationException("Map yielded a null key");
                buffer.Add(key, value);
                if ((++yielded & 1023) == 0) stop.ThrowIfCancellationRequested();
            }
            pairs = yielded;
        });
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

    public ReduceCounts RunReduce(IReadOnlyList<Stream> runs, Stream output, string where, CancellationToken stop = default)
    {
        var merged = RunMerger.Merge(runs.Select(SortedRun.Read<TKey, TValue>).ToList());
        using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        long lines = 0, groups = 0;
        if (_reduce is not null)
        {
            TKey? current = default;
            Guard("Reduce", where, () =>
            {
                foreach (var (key, values) in RunMerger.Groups(merged))
                {
                    current = key;
                    stop.ThrowIfCancellationRequested();
                    writer.WriteLine(OutputFormat.Line(key, _reduce(key, values)));
                    lines++;
                    groups++;
                }
            }, () => current is null ? "" : $" at key '{OutputFormat.Text(current)}'");
        }
        else
        {
            var all = new Dictionary<TKey, List<TValue>>(KeyOrder.EqualityFor<TKey>());
            foreach (var (key, value) in merged)
            {
                if (!all.TryGetValue(key, out var values)) all[key] = values = [];
                values.Add(value);
            }
            groups = all.Count;
            var results = new List<(TKey Key, TResult Value)>();
            Guard("Reducer", where, () => results.AddRange(_reducer!(all)));
            var order = KeyOrder.For<TKey>();
            results.Sort((a, b) => order.Compare(a.Key, b.Key));
            foreach (var (key, value) in results)
            {
                writer.WriteLine(OutputFormat.Line(key, value));
                lines++;
            }
        }
        return new ReduceCounts(groups, lines);
    }

    /// <summary>Runs user code and turns whatever it throws into one message naming where it happened.</summary>
    private static void Guard(string function, string where, Action action, Func<string>? detail = null)
    {
        try
        {
            action();
        }
        catch (CombineFailedException c)
        {
            var inner = c.InnerException!;
            throw new UserCodeException($"Combine threw on {where} at key '{c.Key}': {inner.GetType().Name}: {inner.Message}", inner);
        }
        catch (Exception e) when (e is not IOException and not OperationCanceledException)
        {
            var inner = e is TargetInvocationException { InnerException: not null } t ? t.InnerException! : e;
            throw new UserCodeException($"{function} threw on {where}{detail?.Invoke()}: {inner.GetType().Name}: {inner.Message}", inner);
        }
    }
}
