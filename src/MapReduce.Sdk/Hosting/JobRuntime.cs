using System.ComponentModel;

namespace MapReduce.Sdk.Hosting;

/// <summary>
/// What the engine that runs a job (a worker, or the test harness) gives <see cref="JobFunctions"/>:
/// the running attempt's counters and key ranges. Engines implement it; jobs never need to.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IJobRuntime
{
    void Count(string name, long by);

    int TotalOrder<TKey>(TKey key, int reducers);
}

/// <summary>
/// The attempt whose user code runs on this flow. Several attempts run at once in one worker, so
/// it is an AsyncLocal that the engine sets around user code and that flows into every task and
/// pool thread the attempt starts. This assembly is loaded once per process and shared with every
/// job's load context, so the engine and the job see the same slot.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class JobRuntime
{
    private static readonly AsyncLocal<IJobRuntime?> Slot = new();

    /// <summary>The attempt whose code runs on this flow, or null outside attempts.</summary>
    public static IJobRuntime? Current => Slot.Value;

    /// <summary>Runs <paramref name="code"/> as <paramref name="runtime"/>'s: what it counts (also from tasks it starts) goes there.</summary>
    public static T Run<T>(IJobRuntime runtime, Func<T> code)
    {
        var outer = Slot.Value;
        Slot.Value = runtime;
        try { return code(); }
        finally { Slot.Value = outer; }
    }
}
