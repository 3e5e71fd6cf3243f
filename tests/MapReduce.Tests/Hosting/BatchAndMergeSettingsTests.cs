using Akka.Configuration;
using MapReduce.Actors.Hosting;

namespace MapReduce.Tests.Hosting;

/// <summary>mapreduce.master.journal-batch-delay and mapreduce.shuffle-merge-factor: read from the HOCON; a merge factor under 2 refused with one line.</summary>
public sealed class BatchAndMergeSettingsTests
{
    private static MapReduceSettings Read(string hocon) =>
        MapReduceSettings.From(ConfigurationFactory.ParseString(hocon).WithFallback(MapReduceSettings.LoadConfig()));

    [Fact]
    public void The_defaults_are_read_from_the_hocon_and_can_be_set()
    {
        Assert.Equal(TimeSpan.Zero, Read("").Master.JournalBatchDelay);
        Assert.Equal(100, Read("").Shuffle.MergeFactor);
        Assert.Equal(TimeSpan.FromMilliseconds(10), Read("mapreduce.master.journal-batch-delay = 10ms").Master.JournalBatchDelay);
        Assert.Equal(2, Read("mapreduce.shuffle-merge-factor = 2").Shuffle.MergeFactor);
    }

    [Fact]
    public void A_merge_factor_under_two_is_refused_with_one_line() =>
        Assert.Equal("mapreduce.shuffle-merge-factor = 1 is below its minimum of 2 runs",
            Assert.Throws<ConfigurationException>(() => Read("mapreduce.shuffle-merge-factor = 1")).Message);
}
