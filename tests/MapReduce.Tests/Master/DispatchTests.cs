using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Master;

/// <summary>Dispatch as values: the scheduler's decisions become TaskStarted events and the messages sent once they are journaled.</summary>
public sealed class DispatchTests
{
    private const string Job = "job-20261130-080000-abcdef";
    private static readonly JobId Id = new(Job);
    private static readonly DateTime At = new(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc);

    private static MasterState State(params IMasterEvent[] events)
    {
        var state = MasterState.Empty.Apply(new JobSubmitted(Job, "code-1", "data-1", 3,
        [
            new MapInput("m00000", "a.txt", 0, "k0", [new MapChunk("a.txt", 1, "k1")]),
            new MapInput("m00001", "b.txt", 0, "k2"),
            new MapInput("m00002", "c.txt", 0, "k3"),
        ], At));
        foreach (var e in events) state = state.Apply(e);
        return state;
    }

    [Fact]
    public void A_map_goes_out_as_its_next_attempt_with_its_chunks()
    {
        var state = State(new TaskStarted(Job, "m00001", "m00001.1", "w", At), new TaskFailed(Job, "m00001", "m00001.1", "boom", true, At));
        var plan = Dispatch.Of([new Scheduler.Decision<string>(Id, TaskId.Map(0), "w1"), new Scheduler.Decision<string>(Id, TaskId.Map(1), "w2")], state, w => $"addr-{w}", At);

        Assert.Equal([new TaskStarted(Job, "m00000", "m00000.1", "addr-w1", At), new TaskStarted(Job, "m00001", "m00001.2", "addr-w2", At)], plan.Events);
        Assert.Equal(["w1", "w2"], plan.Messages.Select(m => m.Worker));
        var first = Assert.IsType<RunMapTask>(plan.Messages[0].Message);
        Assert.Equal((new AttemptId(Id, TaskId.Map(0), 1), "code-1", 3), (first.Attempt, first.CodeId, first.Reducers));
        Assert.Equal([new MapChunk("a.txt", 0, "k0"), new MapChunk("a.txt", 1, "k1")], first.Chunks);
        Assert.Equal(new AttemptId(Id, TaskId.Map(1), 2), Assert.IsType<RunMapTask>(plan.Messages[1].Message).Attempt);
    }

    [Fact]
    public void A_reduce_goes_out_with_each_maps_accepted_attempt_where_it_wrote_into_its_partition()
    {
        var state = State(
            new TaskStarted(Job, "m00000", "m00000.1", "w", At), new MapSucceeded(Job, "m00000", "m00000.1", [0, 2], At),
            new TaskStarted(Job, "m00001", "m00001.1", "w", At), new TaskFailed(Job, "m00001", "m00001.1", "boom", true, At),
            new TaskStarted(Job, "m00001", "m00001.2", "w", At), new MapSucceeded(Job, "m00001", "m00001.2", [2], At),
            new TaskStarted(Job, "m00002", "m00002.1", "w", At), new MapSucceeded(Job, "m00002", "m00002.1", [], At));
        var plan = Dispatch.Of(new[] { 0, 1, 2 }.Select(p => new Scheduler.Decision<string>(Id, TaskId.Reduce(p), "w")), state, w => w, At);

        Assert.Equal(["r00000.1", "r00001.1", "r00002.1"], plan.Events.Select(e => e.AttemptId));
        var inputs = plan.Messages.Select(m => Assert.IsType<RunReduceTask>(m.Message).MapAttempts).ToList();
        Assert.Equal([1, 0, 0], inputs[0]);
        Assert.Equal([0, 0, 0], inputs[1]);
        Assert.Equal([1, 2, 0], inputs[2]);
    }

    [Fact]
    public void No_decision_no_event_nor_message()
    {
        var plan = Dispatch.Of(Array.Empty<Scheduler.Decision<string>>(), State(), w => w, At);
        Assert.Empty(plan.Events);
        Assert.Empty(plan.Messages);
    }
}
