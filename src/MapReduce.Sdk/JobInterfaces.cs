namespace MapReduce.Sdk;

/// <summary>The job's Map: called once per chunk (whole lines of one input file), yields key/value pairs.</summary>
public interface IMapper<TKey, TValue>
{
    /// <param name="docId">The file's path below the input folder, with '/'.</param>
    /// <param name="chunk">Whole lines of that file.</param>
    IEnumerable<(TKey Key, TValue Value)> Map(string docId, string chunk);
}

/// <summary>The job's Reduce: called once per key with its values streamed (one pass); the result is written as <c>key&lt;TAB&gt;value</c>.</summary>
public interface IReducer<TKey, TValue, TResult>
{
    TResult Reduce(TKey key, IEnumerable<TValue> values);
}

/// <summary>Instead of <see cref="IReducer{TKey, TValue, TResult}"/>: each string it yields is one output line, written as it is.</summary>
public interface ILineReducer<TKey, TValue>
{
    IEnumerable<string> ReduceLines(TKey key, IEnumerable<TValue> values);
}

/// <summary>
/// An optional Combine, run on each map task's output: it may run any number of times on any
/// batch of a key's values, its own results included, so it must be associative and commutative.
/// </summary>
public interface ICombiner<TKey, TValue>
{
    TValue Combine(TKey key, IEnumerable<TValue> values);
}

/// <summary>An optional Partition: the reducer (0 to reducers - 1) that gets a key; by default a stable hash of the key.</summary>
public interface IPartitioner<TKey>
{
    int Partition(TKey key, int reducers);
}
