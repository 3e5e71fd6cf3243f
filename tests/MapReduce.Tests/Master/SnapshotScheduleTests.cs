using MapReduce.Actors.Master;

namespace MapReduce.Tests.Master;

/// <summary>When the master snapshots: every <c>snapshot-after</c> events, and again when a save's reply is lost.</summary>
public sealed class SnapshotScheduleTests
{
    /// <summary>
    /// Runs of steps with snapshot-after 10: <c>R100</c> recovered from a snapshot at event 100, <c>D10</c> asked
    /// whether due at event 10, <c>S10</c> a save at 10 answered, <c>F</c> a save failed; and the answers of the D steps in order (y: due).
    /// </summary>
    public static TheoryData<string, string, string> Runs() => new()
    {
        { "not due before `every` events", "D1 D9", "nn" },
        { "due at exactly `every` events", "D10", "y" },
        { "counted from the snapshot it recovered from", "R100 D109 D110", "ny" },
        { "a requested save is not requested twice while it may still answer", "D10 D11 D19", "ynn" },
        { "after a save, counted from where it was saved", "D10 S10 D19 D20", "yny" },
        { "a reply lost: another is taken once as many events again were written", "D10 D19 D20", "yny" },
        { "a failed save: taken again at the next chance", "D10 F D11", "yy" },
        { "a reply for an older save does not clear a newer request", "D10 D20 S10 D29 D30", "yyny" },
        { "a late reply of an older save keeps the newer saved point", "D10 S10 D20 S20 S10 D29 D30", "yyny" },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public void Decides_when_to_snapshot(string why, string steps, string expected)
    {
        _ = why;
        var schedule = new SnapshotSchedule(every: 10);
        var answers = "";
        foreach (var step in steps.Split(' '))
        {
            var at = step.Length > 1 ? long.Parse(step[1..]) : 0;
            switch (step[0])
            {
                case 'R': schedule.Recovered(at); break;
                case 'D': answers += schedule.Due(at) ? 'y' : 'n'; break;
                case 'S': schedule.Saved(at); break;
                case 'F': schedule.Failed(); break;
            }
        }
        Assert.Equal(expected, answers);
    }
}
