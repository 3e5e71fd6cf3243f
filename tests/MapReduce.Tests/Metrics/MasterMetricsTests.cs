using MapReduce.Actors.Protocol;
using MapReduce.Tests.Master;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;
using static MapReduce.Tests.Metrics.MetricsScrape;

namespace MapReduce.Tests.Metrics;

/// <summary>
/// The master's metrics move when its events are durable, by what they say (accepted attempts'
/// bytes, not a failed one's), once: not for a duplicate result, and not when a new master replays
/// the journal. The gauges show the running job's tasks.
/// </summary>
[Collection(ProcessMetrics.Name)]
public sealed class MasterMetricsTests : MasterTestKit
{
    [Fact]
    public async Task A_jobs_events_move_the_counters_once_and_a_master_that_recovers_them_counts_nothing_again()
    {
        var before = await SeriesAsync();
        var (master, worker, job) = StartJob(slots: 3, reducers: 2);
        var maps = new[] { worker.ExpectMsg<RunMapTask>(), worker.ExpectMsg<RunMapTask>(), worker.ExpectMsg<RunMapTask>() };
        Sync(master);

        var running = await SeriesAsync();
        Assert.Equal(1, running["mapreduce_jobs_running{phase=\"map\"}"]);
        Assert.Equal(0, running["mapreduce_jobs_running{phase=\"reduce\"}"]);
        Assert.Equal(3, running["mapreduce_tasks{kind=\"map\",state=\"running\"}"]);
        Assert.Equal(0, running["mapreduce_tasks{kind=\"map\",state=\"pending\"}"]);
        Assert.Equal(2, running["mapreduce_tasks{kind=\"reduce\",state=\"pending\"}"]);

        // The first map's code throws once; its second attempt and the others succeed, each having read its bytes.
        master.Tell(new TaskAttemptFailed(maps[0].Attempt, FailureKind.UserCode, "boom"), worker.Ref);
        var retry = worker.ExpectMsg<RunMapTask>();
        long[] read = [100, 200, 300];
        master.Tell(new MapTaskSucceeded(retry.Attempt, [1, 1], Read(read[0])), worker.Ref);
        master.Tell(new MapTaskSucceeded(maps[1].Attempt, [1, 1], Read(read[1])), worker.Ref);
        master.Tell(new MapTaskSucceeded(maps[2].Attempt, [1, 1], Read(read[2])), worker.Ref);
        // A duplicate result of a task that is done counts nothing.
        master.Tell(new MapTaskSucceeded(maps[2].Attempt, [1, 1], Read(read[2])), worker.Ref);
        var reduces = new[] { worker.ExpectMsg<RunReduceTask>(), worker.ExpectMsg<RunReduceTask>() };
        Sync(master);
        var reducing = await SeriesAsync();
        Assert.Equal((0, 1), (reducing["mapreduce_jobs_running{phase=\"map\"}"], reducing["mapreduce_jobs_running{phase=\"reduce\"}"]));
        Assert.Equal((3, 2), (reducing["mapreduce_tasks{kind=\"map\",state=\"done\"}"], reducing["mapreduce_tasks{kind=\"reduce\",state=\"running\"}"]));

        master.Tell(new ReduceTaskSucceeded(reduces[0].Attempt, 3, Wrote(shuffled: 40, written: 7)), worker.Ref);
        master.Tell(new ReduceTaskSucceeded(reduces[1].Attempt, 2, Wrote(shuffled: 50, written: 9)), worker.Ref);
        Assert.Equal(JobStage.Succeeded, StatusOf(master, job).Stage);

        var expected = new Dictionary<string, double>
        {
            ["mapreduce_jobs_submitted_total"] = 1,
            ["mapreduce_jobs_ended_total{state=\"succeeded\"}"] = 1,
            ["mapreduce_jobs_ended_total{state=\"failed\"}"] = 0,
            ["mapreduce_attempts_started_total{kind=\"map\"}"] = 4,
            ["mapreduce_attempts_started_total{kind=\"reduce\"}"] = 2,
            ["mapreduce_attempts_ended_total{kind=\"map\",outcome=\"succeeded\"}"] = 3,
            ["mapreduce_attempts_ended_total{kind=\"map\",outcome=\"failed\"}"] = 1,
            ["mapreduce_attempts_ended_total{kind=\"map\",outcome=\"lost\"}"] = 0,
            ["mapreduce_attempts_ended_total{kind=\"map\",outcome=\"superseded\"}"] = 0,
            ["mapreduce_attempts_ended_total{kind=\"reduce\",outcome=\"succeeded\"}"] = 2,
            ["mapreduce_bytes_total{kind=\"read\"}"] = read.Sum(),
            ["mapreduce_bytes_total{kind=\"shuffled\"}"] = 90,
            ["mapreduce_bytes_total{kind=\"written\"}"] = 16,
        };
        var ended = await SeriesAsync();
        Assert.Equal(expected, expected.ToDictionary(kv => kv.Key, kv => Delta(before, ended, kv.Key)));
        Assert.True(Delta(before, ended, "mapreduce_journal_write_seconds_count") >= 1);
        Assert.Equal(0, ended["mapreduce_jobs_running{phase=\"reduce\"}"]);

        Watch(master);
        Sys.Stop(master);
        ExpectTerminated(master);
        var recovered = NewMaster();
        Assert.Equal(JobStage.Succeeded, StatusOf(recovered, job).Stage);
        var replayed = await SeriesAsync();
        Assert.Equal(expected, expected.ToDictionary(kv => kv.Key, kv => Delta(before, replayed, kv.Key)));
    }

    private static Dictionary<string, long> Read(long bytes) => new() { ["map.input.bytes"] = bytes, ["map.input.lines"] = 1 };

    private static Dictionary<string, long> Wrote(long shuffled, long written) => new() { ["shuffle.bytes"] = shuffled, ["reduce.output.bytes"] = written };
}
