using MapReduce.Submit.Bench;

namespace MapReduce.Tests.Submit;

/// <summary>
/// Which node exits of a nemesis soak no injected fault explains (spurious downs, crashes): an exit
/// is explained by a fault on the same node within <see cref="Nemesis.ExitWindow"/> (40 s) before
/// it, or by an explained exit of the same node within that plus the longest restart delay (30 s).
/// </summary>
public sealed class NemesisExitsTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    /// <summary>mapreduce.local.restart-backoff.max as hocon/mapreduce.hocon sets it.</summary>
    private static readonly TimeSpan LongestRestartDelay = S(30);

    [Theory]
    // fault on, fault at, exit of, exit at -> unexplained?
    [InlineData("worker-1", 10, "worker-1", 10.2, false)] // SIGKILL: exits at once
    [InlineData("master-2", 10, "master-2", 45, false)]   // a long pause, downed, exits on waking
    [InlineData("master-2", 10, "master-2", 50, false)]   // the window's edge
    [InlineData("master-2", 10, "master-2", 50.5, true)]  // past the window
    [InlineData("worker-1", 10, "worker-2", 12, true)]    // another node: nothing was done to it
    [InlineData("worker-1", 10, "worker-1", 9, true)]     // before the fault
    public void An_exit_is_explained_only_by_a_fault_on_its_node_shortly_before(string faulted, double faultAt, string exited, double exitAt, bool unexplained)
    {
        var exit = new NodeExit(S(exitAt), exited, 69);

        var found = Nemesis.Unexplained([new Fault(S(faultAt), "pause", faulted, "worker")], [exit], LongestRestartDelay);

        Assert.Equal(unexplained ? [exit] : [], found);
    }

    [Fact]
    public void A_restart_that_fails_again_is_explained_by_the_fault_that_started_the_chain()
    {
        // Killed at 10 s; restarted 30 s later, the new process exits at once, and so on.
        NodeExit[] exits = [new(S(10.1), "kvstore", 137), new(S(41), "kvstore", 3), new(S(100), "kvstore", 3)];

        var found = Nemesis.Unexplained([new Fault(S(10), "kill", "kvstore", "kvstore")], exits, LongestRestartDelay);

        Assert.Empty(found);
    }

    [Fact]
    public void Exits_with_no_fault_at_all_are_all_unexplained_in_time_order()
    {
        NodeExit[] exits = [new(S(30), "worker-2", 69), new(S(5), "master-1", 69)];

        var found = Nemesis.Unexplained([], exits, LongestRestartDelay);

        Assert.Equal(["master-1", "worker-2"], found.Select(e => e.Node));
    }
}
