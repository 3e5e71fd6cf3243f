using MapReduce.Actors.Metrics;
using MapReduce.Actors.Protocol;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Tests.Metrics.MetricsScrape;

namespace MapReduce.Tests.Metrics;

/// <summary>A worker's slots, busy and total, and each attempt's duration by kind and outcome.</summary>
[Collection(ProcessMetrics.Name)]
public sealed class WorkerMetricsTests
{
    private static readonly JobId Job = new("job-20261130-080000-abcdef");

    [Fact]
    public async Task Slots_are_busy_while_attempts_run_and_each_ended_attempt_is_timed_by_kind_and_outcome()
    {
        var before = await SeriesAsync();
        var metrics = new WorkerMetrics(3);
        AttemptId map = AttemptId.Parse(Job, "m00000.1"), reduce = AttemptId.Parse(Job, "r00001.2"), stopped = AttemptId.Parse(Job, "m00002.1");
        metrics.Started(map);
        metrics.Started(reduce);
        metrics.Started(stopped);
        var busy = await SeriesAsync();
        Assert.Equal((3, 3), (Delta(before, busy, "mapreduce_worker_slots{state=\"busy\"}"), Delta(before, busy, "mapreduce_worker_slots{state=\"total\"}")));

        metrics.Ended(map, new MapTaskSucceeded(map, [1]));
        metrics.Ended(reduce, new TaskAttemptFailed(reduce, FailureKind.UserCode, "boom"));
        metrics.Ended(reduce, new TaskAttemptFailed(reduce, FailureKind.UserCode, "boom")); // ended already: not again
        var after = await SeriesAsync();
        Assert.Equal(1, Delta(before, after, "mapreduce_worker_slots{state=\"busy\"}"));
        Assert.Equal(1, Delta(before, after, "mapreduce_task_duration_seconds_count{kind=\"map\",outcome=\"succeeded\"}"));
        Assert.Equal(1, Delta(before, after, "mapreduce_task_duration_seconds_count{kind=\"reduce\",outcome=\"failed\"}"));
        Assert.Equal(0, Delta(before, after, "mapreduce_task_duration_seconds_count{kind=\"map\",outcome=\"stopped\"}"));

        // The worker stops with one attempt still running: its slots and that attempt are gone from the node.
        metrics.Stopped();
        var gone = await SeriesAsync();
        Assert.Equal((0, 0), (Delta(before, gone, "mapreduce_worker_slots{state=\"busy\"}"), Delta(before, gone, "mapreduce_worker_slots{state=\"total\"}")));

        var again = new WorkerMetrics(1);
        again.Started(stopped);
        again.Ended(stopped, new TaskAttemptFailed(stopped, FailureKind.Stopped, "job cancelled"));
        again.Stopped();
        Assert.Equal(1, Delta(before, await SeriesAsync(), "mapreduce_task_duration_seconds_count{kind=\"map\",outcome=\"stopped\"}"));
    }
}
