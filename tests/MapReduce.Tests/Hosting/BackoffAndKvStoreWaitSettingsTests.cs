using Akka.Configuration;
using MapReduce.Actors.Hosting;

namespace MapReduce.Tests.Hosting;

/// <summary>
/// The kvstore clients' waits (mapreduce.kvstore.locate-timeout, idle-timeout, away-grace, backoff)
/// and the restart backoffs (mapreduce.master.restart-backoff, local.restart-backoff): read from the
/// HOCON with the values the code had before they were settings; contradictions refused in one line.
/// </summary>
public sealed class BackoffAndKvStoreWaitSettingsTests
{
    private static MapReduceSettings Read(string hocon) =>
        MapReduceSettings.From(ConfigurationFactory.ParseString(hocon).WithFallback(MapReduceSettings.LoadConfig()));

    private static string Refusal(string hocon) => Assert.Throws<ConfigurationException>(() => Read(hocon)).Message;

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void The_defaults_are_the_former_constants()
    {
        var settings = Read("");
        Assert.Equal(new KvStoreClientSettings(S(60), S(60), S(15), new ExponentialBackoff(S(1), S(30))), settings.KvStoreClient);
        Assert.Same(settings.Master.KvStoreBackoff, settings.KvStoreClient.Backoff);
        Assert.Equal(new ExponentialBackoff(S(1), S(10)), settings.Master.RestartBackoff);
        Assert.Equal(new NodeRestartSettings(new ExponentialBackoff(S(1), S(30)), S(60)), settings.LocalRestart);
        Assert.Equal(S(30), settings.Master.KvStoreTimeout);
        Assert.Equal(10000, settings.Master.MaxReducers);
    }

    [Fact]
    public void Each_can_be_set()
    {
        var settings = Read("""
            mapreduce.kvstore { locate-timeout = 5s, idle-timeout = 7s, away-grace = 6s, backoff { first = 200ms, max = 2s } }
            mapreduce.master.restart-backoff { first = 2s, max = 4s }
            mapreduce.local.restart-backoff { first = 3s, max = 9s, reset-after = 20s }
            """);
        Assert.Equal(new KvStoreClientSettings(S(5), S(7), S(6), new ExponentialBackoff(S(0.2), S(2))), settings.KvStoreClient);
        Assert.Equal(settings.KvStoreClient.Backoff, settings.Master.KvStoreBackoff);
        Assert.Equal(new ExponentialBackoff(S(2), S(4)), settings.Master.RestartBackoff);
        Assert.Equal(new NodeRestartSettings(new ExponentialBackoff(S(3), S(9)), S(20)), settings.LocalRestart);
    }

    [Fact]
    public void A_backoff_doubles_from_first_and_stops_at_max()
    {
        var backoff = new ExponentialBackoff(S(0.2), S(2));
        Assert.Equal([0.2, 0.4, 0.8, 1.6, 2, 2], Enumerable.Range(1, 6).Select(n => backoff.Delay(n).TotalSeconds));
        Assert.Equal(S(2), backoff.Delay(int.MaxValue));
        Assert.Equal([1, 2, 4, 8, 16, 30, 30], Enumerable.Range(1, 7).Select(n => Read("").KvStoreClient.Backoff.Delay(n).TotalSeconds));
        Assert.Throws<ArgumentOutOfRangeException>(() => backoff.Delay(0));
    }

    [Theory]
    [InlineData("mapreduce.kvstore.backoff.max = 500ms", "mapreduce.kvstore.backoff.max (500ms) must be at least mapreduce.kvstore.backoff.first (1s)")]
    [InlineData("mapreduce.kvstore.backoff.first = 0s", "mapreduce.kvstore.backoff.first (0ms) must be positive")]
    [InlineData("mapreduce.master.restart-backoff.first = 20s", "mapreduce.master.restart-backoff.max (10s) must be at least mapreduce.master.restart-backoff.first (20s)")]
    [InlineData("mapreduce.local.restart-backoff.max = 1500ms\nmapreduce.local.restart-backoff.first = 2s",
        "mapreduce.local.restart-backoff.max (1500ms) must be at least mapreduce.local.restart-backoff.first (2s)")]
    [InlineData("mapreduce.kvstore.locate-timeout = 0s", "mapreduce.kvstore.locate-timeout (0ms) must be positive")]
    [InlineData("mapreduce.kvstore.idle-timeout = 0s", "mapreduce.kvstore.idle-timeout (0ms) must be positive")]
    [InlineData("mapreduce.kvstore.away-grace = 1s",
        "mapreduce.kvstore.away-grace (1s) must be at least akka.cluster.failure-detector.acceptable-heartbeat-pause (5s): a kvstore that has just died would still look up when workers stop waiting for it")]
    [InlineData("mapreduce.kvstore.away-grace = 5s\nakka.cluster.failure-detector.acceptable-heartbeat-pause = 6s",
        "mapreduce.kvstore.away-grace (5s) must be at least akka.cluster.failure-detector.acceptable-heartbeat-pause (6s): a kvstore that has just died would still look up when workers stop waiting for it")]
    public void Contradicting_settings_are_refused_with_one_line(string hocon, string message) => Assert.Equal(message, Refusal(hocon));

    [Fact]
    public void A_grace_as_long_as_the_heartbeat_pause_is_accepted() =>
        Assert.Equal(S(5), Read("mapreduce.kvstore.away-grace = 5s").KvStoreClient.AwayGrace);
}
