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

    public int[] RunMap(string docId, string chunk, int partitions, Func<int, Stream> openRun, string where)
    {
        var partitioner = new Partitioner<TKey>(partitions);
        var buckets = new List<KeyValuePair<TKey, TValue>>[partitions];
        for (var p = 0; p < partitions; p++) buckets[p] = [];
        Guard("Map", where, () =>
        {
            foreach (var (key, value) in _map(docId, chunk))
            {
                if (key is null) throw new InvalidOperationException("Map yielded a null key");
                buckets[partitioner.PartitionOf(key)].Add(new(key, value));
            }
        });
        var counts = new int[partitions];
        for (var p = 0; p < partitions; p++)
        {
            var pairs = _combine is null ? buckets[p] : Combine(buckets[p], where);
            if (pairs.Count == 0) continue;
            using var run = openRun(p);
            SortedRun.Write(run, pairs);
            counts[p] = pairs.Count;
        }
        return counts;
    }

    private List<KeyValuePair<TKey, TValue>> Combine(List<KeyValuePair<TKey, TValue>> pairs, string where)
    {
        var groups = new Dictionary<TKey, List<TValue>>(KeyOrder.EqualityFor<TKey>());
        foreach (var (key, value) in pairs)
        {
            if (!groups.TryGetValue(key, out var values)) groups[key] = values = [];
            values.Add(value);
        }
        var combined = new List<KeyValuePair<TKey, TValue>>(groups.Count);
        Guard("Combine", where, () =>
        {
            foreach (var (key, values) in groups) combined.Add(new(key, _combine!(key, values)));
        });
        return combined;
    }

    public long RunReduce(IReadOnlyList<Stream> runs, Stream output, string where)
    {
        var merged = RunMerger.Merge(runs.Select(SortedRun.Read<TKey, TValue>).ToList());
        using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        long lines = 0;
        if (_reduce is not null)
        {
            TKey? current = default;
            Guard("Reduce", where, () =>
            {
                foreach (var (key, values) in RunMerger.Groups(merged))
                {
                    current = key;
                    writer.WriteLine(OutputFormat.Line(key, _reduce(key, values)));
                    lines++;
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
        return lines;
    }

    /// <summary>Runs user code and turns whatever it throws into one message naming where it happened.</summary>
    private static void Guard(string function, string where, Action action, Func<string>? detail = null)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is not IOException)
        {
            var inner = e is TargetInvocationException { InnerException: not null } t ? t.InnerException! : e;
            throw new UserCodeException($"{function} threw on {where}{detail?.Invoke()}: {inner.GetType().Name}: {inner.Message}", inner);
        }
    }
}
