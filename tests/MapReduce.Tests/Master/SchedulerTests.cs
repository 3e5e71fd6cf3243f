using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;

namespace MapReduce.Tests.Master;

/// <summary>The scheduler's decisions as values: which job each free slot goes to.</summary>
public sealed class SchedulerTests
{
    /// <summary>A job of <paramref name="maps"/> pending maps, submitted at 08:<paramref name="minute"/>, with <paramref name="running"/> attempts running.</summary>
    private static Scheduler.JobQueue Job(string id, int maps, int minute, int running = 0)
    {
        var pending = new PendingTasks(maps);
        return new Scheduler.JobQueue(new JobId(id), new DateTime(2026, 11, 30, 8, minute, 0, DateTimeKind.Utc), running,
            () => pending.Take(_ => true) is { } i ? TaskId.Map(i) : null);
    }

    private static List<string> Plan(SchedulingPolicy policy, int slots, params Scheduler.JobQueue[] jobs) =>
        Scheduler.Plan(jobs, new Dictionary<string, int> { ["w1"] = slots }, policy).Select(d => $"{d.Job}/{d.Task}").ToList();

    [Fact]
    public void Fair_share_gives_a_new_small_job_the_next_free_slot_beside_a_big_one()
    {
        // The big job holds 3 slots; one frees: it goes to the tiny job, which has none.
        Assert.Equal(["tiny/m00000"], Plan(SchedulingPolicy.Fair, 1, Job("big", 100, 0, running: 3), Job("tiny", 1, 5)));
        // FIFO: the oldest job takes it.
        Assert.Equal(["big/m00000"], Plan(SchedulingPolicy.Fifo, 1, Job("big", 100, 0, running: 3), Job("tiny", 1, 5)));
    }

    [Fact]
    public void Fair_share_spreads_free_slots_evenly_oldest_job_first_on_ties()
    {
        Assert.Equal(["a/m00000", "b/m00000", "c/m00000", "a/m00001", "b/m00001", "a/m00002"],
            Plan(SchedulingPolicy.Fair, 6, Job("a", 10, 0), Job("b", 10, 1), Job("c", 1, 2)));
        Assert.Equal(["a/m00000", "a/m00001", "a/m00002", "a/m00003"], Plan(SchedulingPolicy.Fifo, 4, Job("a", 10, 0), Job("b", 10, 1), Job("c", 1, 2)));
    }

    [Fact]
    public void Free_slots_go_to_the_worker_with_the_most_free_and_never_beyond_them()
    {
        var decisions = Scheduler.Plan([Job("a", 10, 0)], new Dictionary<string, int> { ["w1"] = 1, ["w2"] = 2 }, SchedulingPolicy.Fair);
        Assert.Equal("w2", decisions[0].Worker);
        Assert.Equal(["w1", "w2", "w2"], decisions.Select(d => d.Worker).Order());
    }

    [Fact]
    public void A_job_with_no_task_left_to_start_gives_its_turn_to_the_next()
    {
        Assert.Equal(["b/m00000", "b/m00001"], Plan(SchedulingPolicy.Fifo, 2, Job("a", 0, 0), Job("b", 5, 1)));
        Assert.Empty(Plan(SchedulingPolicy.Fair, 0, Job("a", 5, 0)));
    }
}
