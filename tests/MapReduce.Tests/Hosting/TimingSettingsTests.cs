using Akka.Configuration;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Master;

namespace MapReduce.Tests.Hosting;

/// <summary>Timings that depend on the workers' announce interval: contradictions refuse the start with one line naming the keys.</summary>
public sealed class TimingSettingsTests
{
    private static MasterSettings Read(string hocon) =>
        MasterSettings.From(ConfigurationFactory.ParseString(hocon).WithFallback(MapReduceSettings.LoadConfig()).GetConfig("mapreduce"));

    [Fact]
    public void The_defaults_agree_and_the_announce_interval_is_read()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), Read("").AnnounceInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), Read("mapreduce { announce-interval = 5s, worker-timeout = 10s, master { lost-after = 10s, recovery-grace = 5s } }").AnnounceInterval);
    }

    [Theory]
    [InlineData("mapreduce.worker-timeout = 3s",
        "mapreduce.worker-timeout (3s) must be at least twice mapreduce.announce-interval (2s): workers that announce on time would be dropped")]
    [InlineData("mapreduce.announce-interval = 6s",
        "mapreduce.worker-timeout (10s) must be at least twice mapreduce.announce-interval (6s): workers that announce on time would be dropped")]
    [InlineData("mapreduce.master.lost-after = 3s",
        "mapreduce.master.lost-after (3s) must be at least twice mapreduce.announce-interval (2s): attempts on their way would be declared lost")]
    [InlineData("mapreduce.master.recovery-grace = 1500ms",
        "mapreduce.master.recovery-grace (1500ms) must be at least mapreduce.announce-interval (2s): after a take-over, tasks still running would start again")]
    [InlineData("mapreduce.announce-interval = 0s", "mapreduce.announce-interval (0ms) must be positive")]
    public void Contradicting_timings_are_refused_with_one_line(string hocon, string message)
    {
        Assert.Equal(message, Assert.Throws<ConfigurationException>(() => Read(hocon)).Message);
    }

    /// <summary>
    /// mapreduce.master.late-sweep-after is gone (the kvstore fences an ended job's folder instead):
    /// a config file that still sets it starts as before, the key read by nothing.
    /// </summary>
    [Fact]
    public void A_config_that_still_sets_the_removed_late_sweep_after_starts()
    {
        var config = ConfigurationFactory.ParseString("mapreduce.master.late-sweep-after = 30s").WithFallback(MapReduceSettings.LoadConfig());
        Assert.Equal(Read("").KvStoreTimeout, MapReduceSettings.From(config).Master.KvStoreTimeout);
        Assert.False(MapReduceSettings.LoadConfig().HasPath("mapreduce.master.late-sweep-after"));
    }
}
