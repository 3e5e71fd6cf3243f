using MapReduce.Actors.Hosting;
using MapReduce.Node;
using Microsoft.Extensions.Time.Testing;

namespace MapReduce.Tests.Node;

public class RestartBackoffTests
{
    private readonly FakeTimeProvider _time = new();

    /// <summary>mapreduce.local.restart-backoff as hocon/mapreduce.hocon sets it: 1 s doubling to 30 s, reset after 60 s up.</summary>
    private static readonly NodeRestartSettings Defaults = MapReduceSettings.Defaults.LocalRestart;

    private static TimeSpan Seconds(double s) => TimeSpan.FromSeconds(s);

    /// <summary>The node exits after <paramref name="upFor"/>, waits out its delay, and is started again; returns the delay.</summary>
    private static TimeSpan CrashAfter(RestartBackoff backoff, FakeTimeProvider time, TimeSpan upFor)
    {
        time.Advance(upFor);
        var delay = backoff.NextDelay();
        time.Advance(delay);
        backoff.Started();
        return delay;
    }

    [Fact]
    public void Delays_double_from_one_second_and_stop_at_thirty()
    {
        Assert.Equal([1, 2, 4, 8, 16, 30, 30, 30], Enumerable.Range(1, 8).Select(a => Defaults.Delays.Delay(a).TotalSeconds));
        Assert.Equal(Seconds(30), Defaults.Delays.Delay(int.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => Defaults.Delays.Delay(0));
    }

    [Fact]
    public void A_node_that_keeps_crashing_waits_longer_each_time_up_to_the_cap()
    {
        var backoff = new RestartBackoff(_time, Defaults);
        var delays = Enumerable.Range(0, 8).Select(_ => CrashAfter(backoff, _time, Seconds(5)).TotalSeconds).ToList();
        Assert.Equal([1, 2, 4, 8, 16, 30, 30, 30], delays);
        Assert.Equal(8, backoff.Restarts);
    }

    [Fact]
    public void A_node_that_stayed_up_sixty_seconds_starts_over_at_one_second()
    {
        var backoff = new RestartBackoff(_time, Defaults);
        Assert.Equal([1, 2, 4], Enumerable.Range(0, 3).Select(_ => CrashAfter(backoff, _time, Seconds(1)).TotalSeconds));

        Assert.Equal(Seconds(1), CrashAfter(backoff, _time, Seconds(60)));
        Assert.Equal(Seconds(2), CrashAfter(backoff, _time, Seconds(59)));
        // The restart count is the node's whole history; only the delay starts over.
        Assert.Equal(5, backoff.Restarts);
    }

    [Fact]
    public void Up_time_counts_from_the_latest_start_not_from_the_exit_or_the_first_start()
    {
        var backoff = new RestartBackoff(_time, Defaults);
        _time.Advance(Seconds(100)); // up since creation: a first exit after long service
        Assert.Equal(Seconds(1), backoff.NextDelay());
        _time.Advance(Seconds(1));
        backoff.Started();

        // Waiting for the restart is not up time: 30 s of delays plus 59 s up is still a quick exit.
        Assert.Equal(Seconds(2), CrashAfter(backoff, _time, Seconds(59)));
        Assert.Equal(Seconds(4), CrashAfter(backoff, _time, Seconds(59.9)));
        Assert.Equal(Seconds(1), CrashAfter(backoff, _time, Seconds(60)));
    }

    [Fact]
    public void A_node_that_cannot_be_started_keeps_backing_off()
    {
        // The supervisor calls Started before each attempt: an attempt that fails at once is a quick exit.
        var backoff = new RestartBackoff(_time, Defaults);
        var delays = new List<double>();
        for (var i = 0; i < 8; i++)
        {
            var delay = backoff.NextDelay();
            delays.Add(delay.TotalSeconds);
            _time.Advance(delay);
            backoff.Started();
        }
        Assert.Equal([1, 2, 4, 8, 16, 30, 30, 30], delays);
    }
}
