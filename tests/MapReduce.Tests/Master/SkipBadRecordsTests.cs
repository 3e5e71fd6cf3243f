using Akka.Actor;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Master;

/// <summary>The master narrowing a map task down to the line its Map fails on, and skipping it (--skip-bad-records).</summary>
public sealed class SkipBadRecordsTests : MasterTestKit
{
    private static readonly InputLine Three = new("t.txt", 0, 3);
    private static readonly InputLine Five = new("t.txt", 0, 5);

    /// <summary>A job on the one-chunk dataset "tiny" (one map task), with or without skipping.</summary>
    private JobId SubmitTiny(IActorRef master, bool? skip)
    {
        master.Tell(new SubmitJob("code-1", "tiny", 1, skip));
        return ExpectMsg<JobAccepted>(AdmissionTimeout).JobId;
    }

    private static TaskAttemptFailed Threw(RunMapTask map, InputLine? line) =>
        new(map.Attempt, FailureKind.UserCode, $"Map threw on document 't.txt', chunk 0{(line is null ? "" : $", line {line.Line}")}: boom", line);

    [Fact]
    public void A_line_map_throws_on_in_two_attempts_is_skipped_the_task_starts_over_and_a_new_master_keeps_skipping_it()
    {
        var master = NewMaster();
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, 1, []));
        var job = SubmitTiny(master, skip: true);

        var first = worker.ExpectMsg<RunMapTask>();
        Assert.Null(first.ByLine); // whole chunks, as without skipping
        master.Tell(Threw(first, null), worker.Ref);
        var second = worker.ExpectMsg<RunMapTask>();
        Assert.Equal([], second.ByLine!); // line by line now, nothing to skip
        master.Tell(Threw(second, Three), worker.Ref);
        var third = worker.ExpectMsg<RunMapTask>();
        Assert.Equal([], third.ByLine!); // a suspect is not skipped on one failure
        master.Tell(Threw(third, Three), worker.Ref);
        var fourth = worker.ExpectMsg<RunMapTask>();
        Assert.Equal([Three], fourth.ByLine!);
        // Three failures, and the job runs on: skipping the line started the task's count over.
        Assert.Equal(JobStage.Running, StatusOf(master, job).Stage);

        Watch(master);
        Sys.Stop(master);
        ExpectTerminated(master);
        var recovered = NewMaster();
        Assert.Equal(JobStage.Running, StatusOf(recovered, job).Stage); // recovered (and its clock read) before time passes
        recovered.Tell(new RegisterWorker(worker.Ref, 1, [])); // attempt 4 died with the old master's worker
        Advance(recovered, Defaults.RecoveryGrace + TimeSpan.FromSeconds(1));
        var fifth = worker.ExpectMsg<RunMapTask>();
        Assert.Equal(Attempt(job, "m00000.5"), fifth.Attempt);
        Assert.Equal([Three], fifth.ByLine!);

        recovered.Tell(new MapTaskSucceeded(fifth.Attempt, [4], new Dictionary<string, long> { ["records.skipped"] = 1 }), worker.Ref);
        recovered.Tell(new ReduceTaskSucceeded(worker.ExpectMsg<RunReduceTask>().Attempt, 4), worker.Ref);
        Assert.Equal(JobStage.Succeeded, StatusOf(recovered, job).Stage);
        AwaitAssert(() =>
        {
            var rows = Catalog.GetExecutions(job.Value).Where(e => e.TaskId == "m00000").OrderBy(e => e.AttemptId).ToList();
            Assert.Equal("skipped bad record: document 't.txt', line 3 (Map threw on document 't.txt', chunk 0, line 3: boom)", rows[2].Error);
            Assert.Equal([ExecutionOutcome.Failed, ExecutionOutcome.Failed, ExecutionOutcome.Failed], rows.Take(3).Select(r => r.Outcome));
            Assert.Equal(("m00000.5", ExecutionOutcome.Succeeded), (rows[^1].AttemptId, rows[^1].Outcome));
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_line_the_script_exits_the_process_on_in_two_attempts_is_skipped()
    {
        var master = NewMaster();
        var job = SubmitTiny(master, skip: true);
        foreach (var line in new[] { null, Three, Three })
        {
            // Each attempt on a fresh worker process, as local mode restarts it.
            var worker = CreateTestProbe();
            master.Tell(new RegisterWorker(worker.Ref, 1, []));
            var map = worker.ExpectMsg<RunMapTask>();
            master.Tell(new WorkerLeaving(worker.Ref, new WorkerExit(3, map.Attempt, line)));
        }
        var next = CreateTestProbe();
        master.Tell(new RegisterWorker(next.Ref, 1, []));
        var fourth = next.ExpectMsg<RunMapTask>();
        Assert.Equal(Attempt(job, "m00000.4"), fourth.Attempt);
        Assert.Equal([Three], fourth.ByLine!);
        Assert.Equal(JobStage.Running, StatusOf(master, job).Stage);
    }

    [Fact]
    public void Without_skipping_maps_get_whole_chunks_and_three_failures_fail_the_job_as_before()
    {
        var master = NewMaster();
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, 1, []));
        var job = SubmitTiny(master, skip: null); // the default of hocon/mapreduce.hocon: off

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var map = worker.ExpectMsg<RunMapTask>();
            Assert.Null(map.ByLine);
            master.Tell(Threw(map, Three), worker.Ref); // even a failure that names its line
        }
        var status = StatusOf(master, job);
        Assert.Equal(JobStage.Failed, status.Stage);
        Assert.Equal("map task m00000 (document 't.txt', chunk 0) failed 3 times; last error: Map threw on document 't.txt', chunk 0, line 3: boom", status.Error);
    }

    [Fact]
    public void One_bad_line_more_than_max_skipped_records_fails_the_job_naming_the_limit()
    {
        var master = NewMaster(Defaults with { MaxSkippedRecords = 1 });
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, 1, []));
        var job = SubmitTiny(master, skip: true);

        foreach (var line in new[] { null, Three, Three, Five, Five })
            master.Tell(Threw(worker.ExpectMsg<RunMapTask>(), line), worker.Ref);

        var status = StatusOf(master, job);
        Assert.Equal(JobStage.Failed, status.Stage);
        Assert.Equal("Map failed on more than 1 lines (mapreduce.max-skipped-records = 1); the last: document 't.txt', line 5: Map threw on document 't.txt', chunk 0, line 5: boom", status.Error);
        worker.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }
}
