using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;

namespace MapReduce.Tests.Master;

/// <summary>Which stragglers get a backup attempt, as values: one row per rule of <see cref="Speculation"/>.</summary>
public sealed class SpeculationTests
{
    private static readonly DateTime Now = new(2026, 12, 7, 8, 0, 0, DateTimeKind.Utc);
    private static readonly BackupTaskSettings On = new(Enabled: true, SlowerThan: 1.5, MinRuntime: TimeSpan.FromSeconds(2), AfterDone: 0.75);
    private static readonly JobId Job = new("job-1");

    /// <summary>Map task <paramref name="task"/>'s attempt <paramref name="number"/> on <paramref name="worker"/>, running for <paramref name="seconds"/>.</summary>
    private static Speculation.Running<string> Running(int task, double seconds, string worker = "w1", int number = 1) =>
        new(new AttemptId(Job, TaskId.Map(task), number), worker, Now - TimeSpan.FromSeconds(seconds));

    private static TimeSpan[] Finished(int count, double seconds) => Enumerable.Repeat(TimeSpan.FromSeconds(seconds), count).ToArray();

    private static List<string> Plan(int tasks, TimeSpan[] finished, Speculation.Running<string>[] running, Dictionary<string, int>? free = null,
        BackupTaskSettings? settings = null) =>
        Speculation.Plan(tasks, finished, running, free ?? new Dictionary<string, int> { ["w1"] = 1, ["w2"] = 1 }, settings ?? On, Now)
            .Select(b => $"{b.Of.Name}->{b.On}").ToList();

    [Fact]
    public void A_task_slower_than_the_median_times_the_multiplier_and_the_minimum_gets_a_backup_on_another_worker()
    {
        // 9 of 10 maps took 1 s; the last has run 20 s on w1: its backup goes to w2, never to w1.
        Assert.Equal(["m00009.1->w2"], Plan(10, Finished(9, 1), [Running(9, 20)]));
    }

    [Theory]
    // The threshold is the larger of 1.5 x the median and 2 s.
    [InlineData(1.0, 1.9, false)] // under the minimum runtime
    [InlineData(1.0, 2.1, true)]
    [InlineData(4.0, 5.9, false)] // under 1.5 x the 4 s median
    [InlineData(4.0, 6.1, true)]
    public void The_threshold_is_the_larger_of_the_multiple_of_the_median_and_the_minimum(double median, double running, bool backup)
    {
        Assert.Equal(backup ? ["m00003.1->w2"] : [], Plan(4, Finished(3, median), [Running(3, running)]));
    }

    [Fact]
    public void Nothing_is_backed_up_while_tasks_of_the_phase_wait_for_a_slot_or_too_few_have_finished()
    {
        // 10 tasks: 7 finished, 2 running, 1 not started yet: the slot is the waiting task's.
        Assert.Empty(Plan(10, Finished(7, 1), [Running(8, 30), Running(9, 30)]));
        // All started, but only 2 of 4 finished (under after-done 0.75).
        Assert.Empty(Plan(4, Finished(2, 1), [Running(2, 30), Running(3, 30)]));
        // No task has finished yet: there is no median to compare with.
        Assert.Empty(Plan(1, [], [Running(0, 300)]));
    }

    [Fact]
    public void A_task_gets_at_most_one_backup_and_only_where_a_slot_is_free_on_another_worker()
    {
        // Task 3 runs twice already (its backup on w2): no third attempt.
        Assert.Empty(Plan(4, Finished(3, 1), [Running(3, 30, "w1", 1), Running(3, 10, "w2", 2)]));
        // The only free slot is on the straggler's own worker.
        Assert.Empty(Plan(4, Finished(3, 1), [Running(3, 30)], new Dictionary<string, int> { ["w1"] = 2 }));
        // Two stragglers, one free slot elsewhere: the one running longest gets it.
        Assert.Equal(["m00002.1->w3"], Plan(4, Finished(2, 1), [Running(3, 10, "w2"), Running(2, 30, "w1")],
            new Dictionary<string, int> { ["w3"] = 1 }, On with { AfterDone = 0.5 }));
    }

    [Fact]
    public void Backups_off_launch_nothing()
    {
        Assert.Empty(Plan(10, Finished(9, 1), [Running(9, 600)], settings: On with { Enabled = false }));
    }

    [Fact]
    public void The_median_of_an_even_count_is_the_mean_of_the_middle_two()
    {
        Assert.Equal(TimeSpan.FromSeconds(2.5), Speculation.Median([TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)]));
        Assert.Equal(TimeSpan.FromSeconds(3), Speculation.Median([TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3)]));
    }
}
