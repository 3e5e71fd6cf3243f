using Akka.Configuration;

namespace MapReduce.Actors.Hosting;

/// <summary>A worker's own waits (mapreduce.worker.code-unload-after, log-write-timeout, key-sample-timeout).</summary>
/// <param name="CodeUnloadAfter">Compiled job code no attempt has used this long is unloaded.</param>
/// <param name="LogWriteTimeout">A task's log is stored best effort: past this the attempt's result goes on without it.</param>
/// <param name="KeySampleTimeout">A TotalOrder job's key sample that takes longer fails the attempt.</param>
public sealed record WorkerWaitSettings(TimeSpan CodeUnloadAfter, TimeSpan LogWriteTimeout, TimeSpan KeySampleTimeout)
{
    public static WorkerWaitSettings From(Config mapreduce) => new(
        Durations.Positive(mapreduce, "worker.code-unload-after"),
        Durations.Positive(mapreduce, "worker.log-write-timeout"),
        Durations.Positive(mapreduce, "worker.key-sample-timeout"));
}
