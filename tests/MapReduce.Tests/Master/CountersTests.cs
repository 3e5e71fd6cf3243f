using Akka.Actor;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Master;

/// <summary>Only a task's accepted attempt adds counters; failed, lost and duplicate results add nothing.</summary>
public sealed class CountersTests : MasterTestKit
{
    [Fact]
    public void Counters_come_from_the_accepted_attempt_only_and_attempts_are_split_into_failed_and_lost()
    {
        var master = NewMaster();
        var first = CreateTestProbe();
        master.Tell(new RegisterWorker(first.Ref, 3, []));
        var job = Submit(master, reducers: 1);
        var maps = Enumerable.Range(0, 3).Select(_ => first.ExpectMsg<RunMapTask>().Attempt).OrderBy(a => a.Task.Index).ToArray();
        master.Tell(new MapTaskSucceeded(maps[1], [4], Counters(("map.output.pairs", 4), ("user.words", 4))), first.Ref);
        master.Tell(new MapTaskSucceeded(maps[2], [6], Counters(("map.output.pairs", 6), ("user.words", 6))), first.Ref);

        // m00000: attempt 1 fails in user code, attempt 2 is lost with its worker, attempt 3 succeeds.
        master.Tell(new TaskAttemptFailed(maps[0], FailureKind.UserCode, "Map threw"), first.Ref);
        var second = first.ExpectMsg<RunMapTask>().Attempt;
        Assert.Equal(Attempt(job, "m00000.2"), second);
        Sys.Stop(first.Ref);
        var other = CreateTestProbe();
        master.Tell(new RegisterWorker(other.Ref, 2, []));
        var third = other.ExpectMsg<RunMapTask>().Attempt;
        Assert.Equal(Attempt(job, "m00000.3"), third);
        master.Tell(new MapTaskSucceeded(third, [5], Counters(("map.output.pairs", 5), ("user.words", 5))), other.Ref);
        // A duplicate success and the late success of the lost attempt come after: the first success won.
        master.Tell(new MapTaskSucceeded(third, [500], Counters(("map.output.pairs", 500), ("user.words", 500))), other.Ref);
        master.Tell(new MapTaskSucceeded(second, [700], Counters(("map.output.pairs", 700), ("user.late", 1))), first.Ref);

        var reduce = other.ExpectMsg<RunReduceTask>().Attempt;
        master.Tell(new ReduceTaskSucceeded(reduce, 3, Counters(("reduce.groups", 3), ("reduce.output.pairs", 3))), other.Ref);
        master.Tell(new ReduceTaskSucceeded(reduce, 3, Counters(("reduce.groups", 300), ("reduce.output.pairs", 300))), other.Ref);
        Assert.Equal(JobStage.Succeeded, StatusOf(master, job).Stage);

        AwaitAssert(() =>
        {
            var counters = Catalog.GetCounters(job.Value);
            Assert.Equal(new Dictionary<string, long>
            {
                ["attempts"] = 6, ["attempts.failed"] = 1, ["attempts.lost"] = 1,
                ["map.output.pairs"] = 15, ["reduce.groups"] = 3, ["reduce.output.pairs"] = 3, ["user.words"] = 15,
            }, counters.Totals);
            Assert.Equal(new Dictionary<string, long>
            {
                ["attempts"] = 3, ["attempts.failed"] = 1, ["attempts.lost"] = 1, ["map.output.pairs"] = 5, ["user.words"] = 5,
            }, counters.PerTask["m00000"]);
        }, TimeSpan.FromSeconds(5));

        var executions = Catalog.GetExecutions(job.Value).ToDictionary(e => e.AttemptId);
        Assert.Equal((ExecutionStatus.Failure, ExecutionOutcome.Failed), (executions["m00000.1"].Status, executions["m00000.1"].Outcome));
        Assert.Equal((ExecutionStatus.Failure, ExecutionOutcome.Lost), (executions["m00000.2"].Status, executions["m00000.2"].Outcome));
        Assert.Equal((ExecutionStatus.Success, ExecutionOutcome.Succeeded), (executions["m00000.3"].Status, executions["m00000.3"].Outcome));
        // The fake clock stands still: each attempt started when it was handed out, at the clock's time.
        Assert.All(executions.Values, e => Assert.Equal(Clock.GetUtcNow().UtcDateTime, e.StartedAt));
    }

    private static Dictionary<string, long> Counters(params (string Name, long Value)[] counters) =>
        counters.ToDictionary(c => c.Name, c => c.Value);
}
