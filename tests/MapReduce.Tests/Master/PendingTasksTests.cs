using MapReduce.Actors.Master;

namespace MapReduce.Tests.Master;

/// <summary>Pending tasks are taken lowest index first, each once, skipping those that may not start, in O(1) amortized.</summary>
public sealed class PendingTasksTests
{
    private static List<int> TakeAll(PendingTasks pending, Func<int, bool> runnable)
    {
        var taken = new List<int>();
        while (pending.Take(runnable) is { } i) taken.Add(i);
        return taken;
    }

    [Fact]
    public void Tasks_are_taken_in_index_order_skipping_those_that_may_not_start()
    {
        Assert.Equal([0, 2, 3], TakeAll(new PendingTasks(4), i => i != 1));
        Assert.Empty(TakeAll(new PendingTasks(0), _ => true));
    }

    [Fact]
    public void A_task_handed_back_is_taken_again_before_every_task_of_a_higher_index()
    {
        var pending = new PendingTasks(6);
        Assert.Equal(0, pending.Take(_ => true));
        Assert.Equal(1, pending.Take(_ => true));
        Assert.Equal(2, pending.Take(_ => true));
        pending.Return(2);
        pending.Return(0);
        pending.Return(0); // twice: still once
        Assert.Equal([0, 2, 3, 4, 5], TakeAll(pending, _ => true));
    }

    [Fact]
    public void A_task_handed_back_that_may_no_longer_start_is_dropped_when_reached()
    {
        var pending = new PendingTasks(3);
        Assert.Equal(0, pending.Take(_ => true));
        pending.Return(0);
        Assert.Equal([1, 2], TakeAll(pending, i => i != 0)); // done meanwhile
        Assert.Null(pending.Take(_ => true));
    }

    [Fact]
    public void A_task_handed_back_beyond_the_cursor_is_taken_once()
    {
        // After a take-over: task 2 ran before; the cursor skipped it, and it is handed back once the recovery grace is over.
        var pending = new PendingTasks(4);
        var graceOver = false;
        Assert.Equal(0, pending.Take(i => i != 2 || graceOver));
        Assert.Equal(1, pending.Take(i => i != 2 || graceOver));
        Assert.Equal(3, pending.Take(i => i != 2 || graceOver));
        graceOver = true;
        pending.Return(2);
        Assert.Equal([2], TakeAll(pending, _ => true));

        var fresh = new PendingTasks(4);
        fresh.Return(1); // handed back before the cursor reached it
        Assert.Equal([0, 1, 2, 3], TakeAll(fresh, _ => true));
    }

    [Fact]
    public void Taking_every_task_of_a_large_job_costs_linear_time()
    {
        var pending = new PendingTasks(100_000);
        var checks = 0;
        var taken = 0;
        while (pending.Take(_ => { checks++; return true; }) is not null) taken++;
        Assert.Equal(100_000, taken);
        Assert.True(checks <= 100_000, $"{checks} runnable checks for 100,000 tasks");
    }
}
