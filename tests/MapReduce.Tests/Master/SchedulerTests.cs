using System.Collections.Immutable;
using MapReduce.Actors.Master;

namespace MapReduce.Tests.Master;

/// <summary>The scheduler's decisions as values: which job each free slot goes to.</summary>
public sealed class SchedulerTests
{
    private static JobState Job(string id, int maps, int minute) => JobState.From(new JobSubmitted(id, "code", "data", 1,
        Enumerable.Range(0, maps).Select(i => new MapInput(TaskId.Map(i).ToString(), "d", i, $"k{i}")).ToArray(),
        new DateTime(2026, 11, 30, 8, minute, 0, DateTimeKind.Utc)));

    private static List<string> Plan(SchedulingPolicy policy, Dictionary<JobId, int> running, int slots, params JobState[] jobs) =>
        Scheduler.Plan(jobs, running, new Dictionary<string, int> { ["w1"] = slots }, (_, _) => true, policy)
            .Select(d => $"{d.Job}/{d.Task.Id}").ToList();

    [Fact]
    public void Fair_share_gives_a_new_small_job_the_next_free_slot_beside_a_big_one()
    {
        var big = Job("big", 100, 0);
        var tiny = Job("tiny", 1, 5);
        // The big job holds 3 slots; one frees: it goes to the tiny job, which has none.
        Assert.Equal(["tiny/m00000"], Plan(SchedulingPolicy.Fair, new() { [big.Id] = 3 }, 1, big, tiny));
        // FIFO: the oldest job takes it.
        Assert.Equal(["big/m00000"], Plan(SchedulingPolicy.Fifo, new() { [big.Id] = 3 }, 1, big, tiny));
    }

    [Fact]
    public void Fair_share_spreads_free_slots_evenly_oldest_job_first_on_ties()
    {
        var a = Job("a", 10, 0);
        var b = Job("b", 10, 1);
        var c = Job("c", 1, 2);
        Assert.Equal(["a/m00000", "b/m00000", "c/m00000", "a/m00001", "b/m00001", "a/m00002"], Plan(SchedulingPolicy.Fair, new(), 6, a, b, c));
        Assert.Equal(["a/m00000", "a/m00001", "a/m00002", "a/m00003"], Plan(SchedulingPolicy.Fifo, new(), 4, a, b, c));
    }

    [Fact]
    public void Free_slots_go_to_the_worker_with_the_most_free_and_never_beyond_them()
    {
        var a = Job("a", 10, 0);
        var decisions = Scheduler.Plan([a], new Dictionary<JobId, int>(), new Dictionary<string, int> { ["w1"] = 1, ["w2"] = 2 }, (_, _) => true, SchedulingPolicy.Fair);
        Assert.Equal(3, decisions.Count);
        Assert.Equal("w2", decisions[0].Worker);
        Assert.Equal(2, decisions.Count(d => d.Worker == "w2"));
        Assert.Single(decisions, d => d.Worker == "w1");
    }

    [Fact]
    public void Tasks_the_master_may_not_start_are_skipped()
    {
        var a = Job("a", 3, 0);
        var decisions = Scheduler.Plan([a], new Dictionary<JobId, int>(), new Dictionary<string, int> { ["w1"] = 5 }, (_, t) => t.Id.Index != 1, SchedulingPolicy.Fair);
        Assert.Equal(["m00000", "m00002"], decisions.Select(d => d.Task.Id.ToString()));
        Assert.Equal(ImmutableArray<int>.Empty, decisions[0].Task.NonEmptyPartitions);
    }
}
