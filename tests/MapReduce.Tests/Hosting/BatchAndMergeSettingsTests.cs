using Akka.Configuration;
using MapReduce.Actors.Hosting;

namespace MapReduce.Tests.Hosting;

/// <summary>mapreduce.master.journal-batch-delay and mapreduce.shuffle-merge-factor: read from the HOCON, nonsense refused with one line.</summary>
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

    [Theory]
    [InlineData("mapreduce.shuffle-merge-factor = 1", "mapreduce.shuffle-merge-factor = 1 is below its minimum of 2 runs")]
    [InlineData("mapreduce.master.journal-batch-delay = -5ms", "mapreduce.master.journal-batch-delay must be 0 or more, not -5ms")]
    public void Nonsense_is_refused_with_one_line(string hocon, string message) =>
        Assert.Equal(message, Assert.Throws<ConfigurationException>(() => Read(hocon)).Message);
}
