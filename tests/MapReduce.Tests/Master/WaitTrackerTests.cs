using MapReduce.Actors.Master;
using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Tests.Master;

/// <summary>What the master waits for, since when, and whether something was away during an attempt's run; time is passed in.</summary>
public sealed class WaitTrackerTests
{
    private static readonly DateTime T0 = new(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc);

    private static DateTime At(int seconds) => T0.AddSeconds(seconds);

    [Fact]
    public void Nothing_is_waited_for_at_first()
    {
        var waits = new WaitTracker();
        Assert.Empty(waits.Current);
        Assert.False(waits.Any);
        Assert.False(waits.IsWaitingFor("kvstore"));
        Assert.Null(waits.End("kvstore", At(1)));
        Assert.False(waits.WasAwayDuring("kvstore", DateTime.MinValue));
    }

    [Fact]
    public void A_wait_lasts_from_its_begin_to_its_end()
    {
        var waits = new WaitTracker();
        Assert.True(waits.Begin("kvstore", "unreachable", At(5)));
        Assert.True(waits.Any);
        Assert.True(waits.IsWaitingFor("kvstore"));
        Assert.Equal([new Wait("kvstore", "unreachable", At(5))], waits.Current);

        Assert.Equal(TimeSpan.FromSeconds(7), waits.End("kvstore", At(12)));
        Assert.Empty(waits.Current);
        Assert.False(waits.Any);
        Assert.False(waits.IsWaitingFor("kvstore"));
        Assert.Null(waits.End("kvstore", At(13))); // ended already
    }

    [Fact]
    public void Beginning_a_wait_that_lasts_changes_nothing()
    {
        var waits = new WaitTracker();
        waits.Begin("kvstore", "unreachable", At(5));
        Assert.False(waits.Begin("kvstore", "not in the cluster", At(8)));
        Assert.Equal([new Wait("kvstore", "unreachable", At(5))], waits.Current);
        Assert.Equal(TimeSpan.FromSeconds(10), waits.End("kvstore", At(15)));
    }

    [Fact]
    public void Waits_are_listed_oldest_first_then_by_name()
    {
        var waits = new WaitTracker();
        waits.Begin("zeta", "z", At(3));
        waits.Begin("kvstore", "k", At(1));
        waits.Begin("alpha", "a", At(3));
        Assert.Equal(["kvstore", "alpha", "zeta"], waits.Current.Select(w => w.What));

        waits.End("kvstore", At(4));
        Assert.Equal(["alpha", "zeta"], waits.Current.Select(w => w.What));
        Assert.True(waits.IsWaitingFor("zeta"));
        Assert.False(waits.IsWaitingFor("kvstore"));
    }

    [Fact]
    public void Current_is_a_snapshot_a_later_change_does_not_alter()
    {
        var waits = new WaitTracker();
        waits.Begin("kvstore", "unreachable", At(1));
        var before = waits.Current;
        waits.End("kvstore", At(2));
        Assert.Equal([new Wait("kvstore", "unreachable", At(1))], before);
    }

    /// <summary>
    /// The kvstore was away from 10 s to 20 s, then from 30 s on if <paramref name="awayAgain"/>: was it away at
    /// some time from <paramref name="from"/> (an attempt's start) until now (40 s)?
    /// </summary>
    [Theory]
    [InlineData(0, false, true)]   // started before the wait: it was away during the run
    [InlineData(15, false, true)]  // started during it
    [InlineData(20, false, true)]  // started the moment it ended: at or after counts
    [InlineData(21, false, false)] // started after it ended
    [InlineData(25, true, true)]   // away again now
    [InlineData(35, true, true)]
    public void Whether_it_was_away_during_a_run(int from, bool awayAgain, bool expected)
    {
        var waits = new WaitTracker();
        waits.Begin("kvstore", "unreachable", At(10));
        waits.End("kvstore", At(20));
        if (awayAgain) waits.Begin("kvstore", "unreachable", At(30));
        Assert.Equal(expected, waits.WasAwayDuring("kvstore", At(from)));
        Assert.False(waits.WasAwayDuring("other", At(from)));
    }

    [Fact]
    public void Only_the_last_end_of_a_wait_is_kept()
    {
        var waits = new WaitTracker();
        waits.Begin("kvstore", "unreachable", At(10));
        waits.End("kvstore", At(20));
        waits.Begin("kvstore", "unreachable", At(30));
        waits.End("kvstore", At(32));
        Assert.True(waits.WasAwayDuring("kvstore", At(25)));
        Assert.True(waits.WasAwayDuring("kvstore", At(32)));
        Assert.False(waits.WasAwayDuring("kvstore", At(33)));
    }
}
