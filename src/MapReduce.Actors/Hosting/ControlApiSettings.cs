using Akka.Configuration;

namespace MapReduce.Actors.Hosting;

/// <summary>How long the control API waits for the master singleton before it answers 503 (mapreduce.http.master-timeout, slow-command-timeout).</summary>
/// <param name="MasterTimeout">For a command the master answers once it is journaled (cancel).</param>
/// <param name="SlowCommandTimeout">For a submission (the master reads the catalog) and a dataset's deletion (it waits for the kvstore).</param>
public sealed record ControlApiSettings(TimeSpan MasterTimeout, TimeSpan SlowCommandTimeout)
{
    public static ControlApiSettings From(Config mapreduce) => new(
        Durations.Positive(mapreduce, "http.master-timeout"),
        Durations.Positive(mapreduce, "http.slow-command-timeout"));
}
