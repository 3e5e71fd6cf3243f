using Akka.Configuration;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// Delays between tries of something that keeps failing: <see cref="First"/>, then twice as long
/// each time, capped at <see cref="Max"/> (1 s, 2 s, 4 s, … 30 s), so what is away for minutes is
/// neither hammered nor found late. Read from a HOCON block with <c>first</c> and <c>max</c>
/// (mapreduce.kvstore.backoff, mapreduce.master.restart-backoff, mapreduce.local.restart-backoff).
/// </summary>
public sealed record ExponentialBackoff(TimeSpan First, TimeSpan Max)
{
    /// <summary>The delay after the <paramref name="failures"/>-th failure in a row (1-based).</summary>
    public TimeSpan Delay(int failures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        var delay = First;
        // Doubling reaches the cap within ~60 steps whatever First is; no power is computed (nor overflows).
        for (var i = 1; i < failures && delay < Max; i++) delay += delay;
        return delay < Max ? delay : Max;
    }

    /// <param name="mapreduce">The mapreduce section.</param>
    /// <param name="key">The block under it, e.g. kvstore.backoff.</param>
    public static ExponentialBackoff From(Config mapreduce, string key)
    {
        var backoff = new ExponentialBackoff(mapreduce.GetTimeSpan(key + ".first"), mapreduce.GetTimeSpan(key + ".max"));
        if (backoff.First <= TimeSpan.Zero)
            throw new ConfigurationException($"mapreduce.{key}.first ({Durations.Format(backoff.First)}) must be positive");
        if (backoff.Max < backoff.First)
            throw new ConfigurationException(
                $"mapreduce.{key}.max ({Durations.Format(backoff.Max)}) must be at least mapreduce.{key}.first ({Durations.Format(backoff.First)})");
        return backoff;
    }
}
