using Akka.Configuration;

namespace MapReduce.Actors.Hosting;

/// <summary>When local mode starts a master or worker process that exited again (mapreduce.local.restart-backoff).</summary>
/// <param name="Delays">The delay before each restart in a row: first, doubling, up to max.</param>
/// <param name="ResetAfter">A node up at least this long before it exits counts as healthy: its next delay is the first again.</param>
public sealed record NodeRestartSettings(ExponentialBackoff Delays, TimeSpan ResetAfter)
{
    public static NodeRestartSettings From(Config mapreduce) =>
        new(ExponentialBackoff.From(mapreduce, "local.restart-backoff"), mapreduce.GetTimeSpan("local.restart-backoff.reset-after"));
}
