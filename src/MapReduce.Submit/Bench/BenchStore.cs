using MapReduce.Node;

namespace MapReduce.Submit.Bench;

/// <summary>The store folder a benchmark starts its local cluster on.</summary>
public static class BenchStore
{
    /// <summary>
    /// Deletes what an earlier run left in <paramref name="store"/>, never from under a cluster still
    /// running on it (another bench on the same --dir): <see cref="StoreLock"/> refuses then.
    /// </summary>
    public static void Clear(string store)
    {
        if (!Directory.Exists(store)) return;
        StoreLock.Acquire(store, "").Dispose();
        Directory.Delete(store, recursive: true);
    }
}
