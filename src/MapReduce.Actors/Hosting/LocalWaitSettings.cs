using Akka.Configuration;

namespace MapReduce.Actors.Hosting;

/// <summary>How long local mode waits for its nodes (mapreduce.local.detached-keep, start-timeout, stop-grace, cluster-stop-grace).</summary>
/// <param name="DetachedKeep">How long a local cluster stays up for a job submitted with --detach when keep-cluster is 0s.</param>
/// <param name="StartTimeout">How long local mode waits for its nodes to be up, and the CLI for a kept cluster it started.</param>
/// <param name="StopGrace">A node that has not exited this long after SIGTERM is killed.</param>
/// <param name="ClusterStopGrace">How long a node gets after the whole-cluster stop signal before SIGTERM.</param>
public sealed record LocalWaitSettings(TimeSpan DetachedKeep, TimeSpan StartTimeout, TimeSpan StopGrace, TimeSpan ClusterStopGrace)
{
    public static LocalWaitSettings From(Config mapreduce) => new(
        Durations.Positive(mapreduce, "local.detached-keep"),
        Durations.Positive(mapreduce, "local.start-timeout"),
        Durations.Positive(mapreduce, "local.stop-grace"),
        Durations.Positive(mapreduce, "local.cluster-stop-grace"));
}
