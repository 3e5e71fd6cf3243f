using Akka.Actor;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using static MapReduce.Actors.Master.AttemptEvent;
using static MapReduce.Actors.Master.AttemptState;

namespace MapReduce.Tests.Master;

/// <summary>The attempt's transition table, restated here cell by cell, and the registry that refuses an impossible transition.</summary>
public sealed class AttemptLifecycleTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly AttemptEvent[] Events = [Succeed, Fail, ConfirmStop, Refuse, WorkerLeaves, WorkerLost, NotListed, TimeOut, JobEnds, Superseded];

    /// <summary>Each state's row, one cell per event in the order of <see cref="Events"/>: a state it moves to, "-" ignored, "!" impossible.</summary>
    private static readonly Dictionary<AttemptState, string[]> Table = new()
    {
        //                  Succeed      Fail       ConfirmStop Refuse    WorkerLeaves WorkerLost NotListed  TimeOut     JobEnds     Superseded
        [Running] = ["Succeeded", "Failed", "!", "Failed", "Lost", "Lost", "Lost", "Stopping", "Stopping", "Stopping"],
        [Stopping] = ["Succeeded", "Stopped", "Stopped", "-", "Stopped", "Stopped", "Stopped", "-", "-", "-"],
        [Succeeded] = ["-", "!", "-", "!", "-", "-", "-", "!", "-", "-"],
        [Failed] = ["!", "-", "-", "-", "-", "-", "-", "!", "-", "-"],
        [Lost] = ["Succeeded", "-", "-", "-", "-", "-", "-", "!", "-", "-"],
        [Stopped] = ["-", "-", "-", "!", "-", "-", "-", "!", "-", "-"],
    };

    public static TheoryData<AttemptState, AttemptEvent, string> Cells()
    {
        var cells = new TheoryData<AttemptState, AttemptEvent, string>();
        foreach (var (state, row) in Table)
            for (var i = 0; i < Events.Length; i++) cells.Add(state, Events[i], row[i]);
        return cells;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void Each_state_and_event(AttemptState from, AttemptEvent on, string expected)
    {
        var verdict = AttemptLifecycle.Next(from, on, out var to);
        var actual = verdict switch
        {
            AttemptLifecycle.Verdict.Moves => to.ToString(),
            AttemptLifecycle.Verdict.Ignored => "-",
            _ => "!",
        };
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void The_table_covers_every_state_and_event()
    {
        Assert.Equal(Enum.GetValues<AttemptState>().Order(), Table.Keys.Order());
        Assert.Equal(Enum.GetValues<AttemptEvent>().Order(), Events.Order());
    }

    [Fact]
    public void The_registry_refuses_an_impossible_transition_logs_it_and_changes_nothing()
    {
        var refused = new List<string>();
        var registry = new WorkerRegistry(refused.Add);
        var worker = CreateTestProbe().Ref;
        var attempt = new AttemptId(new JobId("job-1"), TaskId.Map(0), 1);
        registry.Announce(worker, 2, [], _ => false, DateTime.UnixEpoch, TimeSpan.FromSeconds(10));
        registry.Start(attempt, worker, DateTime.UnixEpoch);
        Assert.Equal(1, registry.FreeSlots()[worker]);

        Assert.Equal(Running, registry.Fire(attempt, Succeed));
        Assert.Equal(2, registry.FreeSlots()[worker]);
        Assert.Null(registry.Fire(attempt, Succeed)); // a duplicate: ignored, nothing said
        Assert.Empty(refused);
        Assert.Null(registry.Fire(attempt, Fail));
        Assert.Equal([$"attempt {attempt} is Succeeded: Fail cannot happen to it, and is refused"], refused);
        Assert.Equal(Succeeded, registry.Find(attempt)!.State);
    }

    [Fact]
    public void A_stopping_attempt_holds_its_slot_until_its_worker_stops_listing_it()
    {
        var registry = new WorkerRegistry(_ => { });
        var worker = CreateTestProbe().Ref;
        var attempt = new AttemptId(new JobId("job-1"), TaskId.Map(0), 1);
        registry.Announce(worker, 1, [], _ => false, DateTime.UnixEpoch, TimeSpan.FromSeconds(10));
        registry.Start(attempt, worker, DateTime.UnixEpoch);
        registry.Fire(attempt, TimeOut);
        Assert.Empty(registry.FreeSlots());
        Assert.Empty(registry.RunningPerJob);

        registry.Announce(worker, 1, [attempt], _ => false, DateTime.UnixEpoch.AddSeconds(2), TimeSpan.FromSeconds(10));
        Assert.Empty(registry.FreeSlots());
        registry.Announce(worker, 1, [], _ => false, DateTime.UnixEpoch.AddSeconds(4), TimeSpan.FromSeconds(10));
        Assert.Equal(1, registry.FreeSlots()[worker]);
        Assert.Equal(Stopped, registry.Find(attempt)!.State);
    }
}
