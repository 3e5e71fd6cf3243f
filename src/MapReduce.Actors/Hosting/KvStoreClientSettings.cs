using Akka.Configuration;

namespace MapReduce.Actors.Hosting;

/// <summary>How a node's blob clients wait for the kvstore (mapreduce.kvstore.locate-timeout, idle-timeout, away-grace, backoff).</summary>
/// <param name="LocateTimeout">How long a blob request looks for a kvstore in the cluster before it fails as unreachable.</param>
/// <param name="IdleTimeout">A transfer over the data channel with no progress for this long fails; one that keeps moving never does.</param>
/// <param name="AwayGrace">How long a worker's request is tried again even though a kvstore still looks Up: one that has just died looks Up until the failure detector notices.</param>
/// <param name="Backoff">The delays between those tries (and between the master's tries of an ended job's clean-up).</param>
public sealed record KvStoreClientSettings(TimeSpan LocateTimeout, TimeSpan IdleTimeout, TimeSpan AwayGrace, ExponentialBackoff Backoff)
{
    /// <param name="mapreduce">The mapreduce section.</param>
    /// <param name="backoff">mapreduce.kvstore.backoff, as the master's settings read it.</param>
    public static KvStoreClientSettings From(Config mapreduce, ExponentialBackoff backoff) => new(
        Durations.Positive(mapreduce, "kvstore.locate-timeout"), Durations.Positive(mapreduce, "kvstore.idle-timeout"), mapreduce.GetTimeSpan("kvstore.away-grace"), backoff);
}
