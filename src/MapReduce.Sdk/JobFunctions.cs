using MapReduce.Sdk.Hosting;

namespace MapReduce.Sdk;

/// <summary>
/// What a job can call besides its own code: task.csx imports it statically, and a job project
/// writes <c>using static MapReduce.Sdk.JobFunctions;</c>.
/// </summary>
public static class JobFunctions
{
    /// <summary>
    /// Adds <paramref name="by"/> to the counter <paramref name="name"/> of the running attempt;
    /// counted as <c>user.NAME</c> and summed over the job's accepted attempts. At most 100 distinct
    /// names (of at most 100 characters) per task. Outside a job (a plain unit test) it does nothing.
    /// </summary>
    public static void Count(string name, long by = 1) => JobRuntime.Current?.Count(name, by);

    /// <summary>
    /// A total order: the reducer whose range holds <paramref name="key"/>, the ranges cut at
    /// quantiles of keys that the engine samples from the job's input (Map run on the head of up to
    /// 64 chunks spread over it) before the first map task partitions anything, as Hadoop's
    /// InputSampler and TotalOrderPartitioner do. Call it from Partition:
    /// <c>int Partition(string key, int reducers) => TotalOrder(key, reducers);</c>
    /// </summary>
    public static int TotalOrder<TKey>(TKey key, int reducers)
    {
        if (reducers == 1) return 0;
        var runtime = JobRuntime.Current
                      ?? throw new InvalidOperationException("TotalOrder has no key ranges here: they are sampled for map tasks of a job on the cluster (TotalOrder must be given the key Map yields)");
        return runtime.TotalOrder(key, reducers);
    }
}
