using MapReduce.Submit.Bench;
using Xunit;

namespace MapReduce.Tests.Submit;

public sealed class SortBenchReducersTests
{
    [Theory]
    [InlineData(100_000_000L, 2, 2)]        // less than one partition's worth: still 2
    [InlineData(1_000_000_000L, 2, 4)]      // 3.9 partitions by bytes: 4, two full waves on 2 slots (not 3)
    [InlineData(1_000_000_000L, 4, 4)]
    [InlineData(1_000_000_000L, 3, 6)]
    [InlineData(10_000_000_000L, 2, 40)]    // 39.06 by bytes: 40, 20 full waves
    [InlineData(512_000_000L, 2, 2)]        // exactly two partitions' worth
    [InlineData(512_000_001L, 2, 4)]
    public void DefaultReducers_fill_whole_waves_of_the_slots(long inputBytes, int slots, int expected) =>
        Assert.Equal(expected, SortBenchCommand.DefaultReducers(inputBytes, slots));
}
