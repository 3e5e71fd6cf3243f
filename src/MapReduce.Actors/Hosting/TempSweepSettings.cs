using Akka.Configuration;

namespace MapReduce.Actors.Hosting;

/// <summary>How the kvstore deletes temp files of writes that never finished (mapreduce.kvstore.sweep-every, abandoned-after).</summary>
/// <param name="Every">How often it looks for them.</param>
/// <param name="AbandonedAfter">A temp file untouched this long was left by a writer that died; live transfers write every few milliseconds.</param>
public sealed record TempSweepSettings(TimeSpan Every, TimeSpan AbandonedAfter)
{
    public static TempSweepSettings From(Config mapreduce) => new(
        Durations.Positive(mapreduce, "kvstore.sweep-every"),
        Durations.Positive(mapreduce, "kvstore.abandoned-after"));
}
