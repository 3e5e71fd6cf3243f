using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;

namespace MapReduce.Tests.Master;

/// <summary>A finished job is archived once both its final catalog row is written and its leftovers are cleaned up, in either order, once.</summary>
public sealed class ArchiveTrackerTests
{
    private static readonly JobId Job = new("job-20261130-080000-aaaaaa");

    /// <summary>Reports in order (P: projected, C: cleaned up, PC: both at once), and what each answered (y: may be archived now).</summary>
    public static TheoryData<string, string> Runs() => new()
    {
        { "P C", "ny" },
        { "C P", "ny" },
        { "PC", "y" },
        { "P P", "nn" },
        { "C C", "nn" },
        // Once archived the job is forgotten: a late or duplicate report does not archive it twice.
        { "P C C", "nyn" },
        { "P C P", "nyn" },
        { "P C PC", "nyn" },
        { "-", "n" },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public void Archives_once_both_are_done(string reports, string expected)
    {
        var tracker = new ArchiveTracker();
        tracker.Start(Job);
        var answers = string.Concat(reports.Split(' ').Select(r => tracker.Done(Job, projected: r.Contains('P'), cleanedUp: r.Contains('C')) ? 'y' : 'n'));
        Assert.Equal(expected, answers);
    }

    [Fact]
    public void A_job_never_started_is_never_archived()
    {
        var tracker = new ArchiveTracker();
        Assert.False(tracker.Done(Job, projected: true, cleanedUp: true));
    }

    [Fact]
    public void Jobs_are_tracked_apart()
    {
        var tracker = new ArchiveTracker();
        var other = new JobId("job-20261130-080000-bbbbbb");
        tracker.Start(Job);
        tracker.Start(other);
        Assert.False(tracker.Done(Job, projected: true));
        Assert.False(tracker.Done(other, cleanedUp: true));
        Assert.True(tracker.Done(other, projected: true));
        Assert.True(tracker.Done(Job, cleanedUp: true));
    }
}
