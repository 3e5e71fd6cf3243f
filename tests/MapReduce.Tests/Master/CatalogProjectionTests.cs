using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Configs;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using MapReduce.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Tests.Master;

/// <summary>
/// The projection of the master's events into a real SQLite catalog: rows written in batches on
/// Akka's test scheduler (time passes only when the test advances it), stamped by a fake clock,
/// and a finished job answered only once its final row is written.
/// </summary>
public sealed class CatalogProjectionTests : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>How long the projection gathers rows before it writes them.</summary>
    private static readonly TimeSpan FlushEvery = CatalogProjection.FlushEvery;

    /// <summary>How long a catalog write may take: a process's first linq2db query can take seconds on 2 busy cores.</summary>
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(20);

    private static readonly DateTime T0 = new(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc);
    private const string Id = "job-20261130-080000-abcdef";

    private readonly TempFolder _folder = new();
    private readonly CatalogStore _catalog;
    private readonly FakeTimeProvider _clock = new(T0);
    private readonly IActorRef _projection;
    private JobState _job;

    public CatalogProjectionTests() : base(TestConfigs.TestSchedulerConfig)
    {
        _catalog = new CatalogStore(SqlLocation.SqliteFile(_folder.File("catalog.db")));
        _catalog.EnsureCreated();
        _projection = Sys.ActorOf(CatalogProjection.Props(_catalog, _clock));
        _job = JobState.From(Submitted);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _folder.Dispose();
    }

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    private static DateTime At(int seconds) => T0.AddSeconds(seconds);

    /// <summary>Two maps (chunks of a.txt), two reducers.</summary>
    private static readonly JobSubmitted Submitted = new(Id, "code-1", "data-1", 2,
    [
        new MapInput("m00000", "a.txt", 0, "data/data-1/000000-000000"),
        new MapInput("m00001", "a.txt", 1, "data/data-1/000000-000001"),
    ], T0);

    /// <summary>
    /// Applies the event as the master does, then has it projected (sent from the test actor, as from the master)
    /// at <paramref name="second"/> on the clock: the projection reads the clock when it handles the message, so this waits until it has.
    /// </summary>
    private void Project(IMasterEvent e, int second, Wait[]? waitingFor = null)
    {
        _clock.SetUtcNow(At(second));
        if (e is not JobSubmitted) _job = _job.Apply(e);
        _projection.Tell(new CatalogProjection.Project(e, _job, waitingFor));
        Sync();
    }

    /// <summary>Returns once the projection has handled every message sent to it before (so its flush timer is set).</summary>
    private void Sync()
    {
        _projection.Tell(new Identify(null));
        ExpectMsg<ActorIdentity>(WriteTimeout);
    }

    /// <summary>Lets the flush interval pass and waits until the projection has written (an Identify after the flush is answered after it).</summary>
    private void Flush()
    {
        Sync();
        Scheduler.Advance(FlushEvery);
        Sync();
    }

    /// <summary>The job's attempt rows, one line each, with every column.</summary>
    private string Executions() => string.Join("\n", _catalog.GetExecutions(Id).Select(r =>
        $"{r.AttemptId} {r.TaskId} {r.ExecType} chunk={r.ChunkId} partition={r.Partition} {r.Status} outcome={r.Outcome} worker={r.Worker} " +
        $"result={r.ResultDocId} error={r.Error} started={r.StartedAt:HH:mm:ss} updated={r.UpdatedAt:HH:mm:ss} backup={r.Backup}"));

    [Fact]
    public void Rows_are_written_together_once_the_flush_interval_has_passed()
    {
        Project(Submitted, 0, [new Wait("kvstore", "unreachable", At(0))]);
        Project(new TaskStarted(Id, "m00000", "m00000.1", "akka.tcp://mapreduce@10.0.0.1:1", At(1)), 1);
        Sync();
        Scheduler.Advance(FlushEvery - TimeSpan.FromMilliseconds(1));
        Sync();
        Assert.Null(_catalog.GetJob(Id));
        Assert.Empty(_catalog.GetExecutions(Id));

        Scheduler.Advance(TimeSpan.FromMilliseconds(1));
        Sync();
        var job = _catalog.GetJob(Id)!;
        Assert.Equal((ExecutionStatus.Running, "code-1", "data-1", 2, 2, (string?)null, T0, (DateTime?)null, (string?)null),
            (job.Status, job.CodeId, job.DirId, job.Reducers, job.MapTasks, job.ResultDirId, job.SubmittedAt, job.FinishedAt, job.Error));
        // What the job waits for is taken from its last projection: none given there.
        Assert.Null(job.WaitingFor);
        Assert.Equal("m00000.1 m00000 map chunk=data/data-1/000000-000000 partition= running outcome= worker=akka.tcp://mapreduce@10.0.0.1:1 result= error= started=08:00:01 updated=08:00:01 backup=",
            Executions());
    }

    [Fact]
    public void A_running_job_keeps_what_it_waits_for()
    {
        var waits = new[] { new Wait("kvstore", "unreachable", At(3)) };
        Project(Submitted, 0);
        Project(new TaskStarted(Id, "m00000", "m00000.1", "w1", At(1)), 1, waits);
        Flush();
        var row = _catalog.GetJob(Id)!;
        Assert.Equal(CatalogNames.Of(waits), row.WaitingFor);
        Assert.Equal(waits, CatalogNames.WaitsOf(row.WaitingFor));
    }

    [Fact]
    public void An_attempts_row_follows_it_from_start_to_end_with_the_times_of_the_clock()
    {
        Project(Submitted, 0);
        Project(new TaskStarted(Id, "m00000", "m00000.1", "w1", At(1)), 1);
        Project(new TaskStarted(Id, "m00001", "m00001.1", "w2", At(2)), 2);
        Project(new MapSucceeded(Id, "m00000", "m00000.1", [1], At(4), new Dictionary<string, long> { ["map.input.records"] = 7 }), 4);
        Project(new TaskFailed(Id, "m00001", "m00001.1", "boom", Counted: true, At(5)), 5);
        Project(new TaskStarted(Id, "m00001", "m00001.2", "w1", At(6), Backup: true), 6);
        Flush();

        Assert.Equal("""
            m00000.1 m00000 map chunk=data/data-1/000000-000000 partition= success outcome=succeeded worker=w1 result=jobs/job-20261130-080000-abcdef/map/m00000.1 error= started=08:00:01 updated=08:00:04 backup=
            m00001.1 m00001 map chunk=data/data-1/000000-000001 partition= failure outcome=failed worker=w2 result= error=boom started=08:00:02 updated=08:00:05 backup=
            m00001.2 m00001 map chunk=data/data-1/000000-000001 partition= running outcome= worker=w1 result= error= started=08:00:06 updated=08:00:06 backup=1
            """, Executions());
        Assert.Equal(7, _catalog.GetCounters(Id).PerTask["m00000"]["map.input.records"]);
    }

    /// <summary>How a failed attempt ends in its row: lost, superseded or its own failure.</summary>
    [Theory]
    [InlineData(false, false, ExecutionOutcome.Failed)]
    [InlineData(true, false, ExecutionOutcome.Lost)]
    [InlineData(false, true, ExecutionOutcome.Stopped)]
    public void A_failed_attempts_outcome(bool lost, bool superseded, string outcome)
    {
        Project(Submitted, 0);
        Project(new TaskStarted(Id, "m00000", "m00000.1", "w1", At(1)), 1);
        Project(new TaskFailed(Id, "m00000", "m00000.1", "why", Counted: !lost && !superseded, At(2), Lost: lost, Superseded: superseded), 2);
        Flush();
        var row = Assert.Single(_catalog.GetExecutions(Id));
        Assert.Equal((ExecutionStatus.Failure, outcome, "why", At(2)), (row.Status, row.Outcome, row.Error, row.UpdatedAt));
    }

    [Fact]
    public void A_reduce_that_finds_a_map_output_corrupt_marks_that_map_attempt_lost()
    {
        Project(Submitted, 0);
        Project(new TaskStarted(Id, "m00000", "m00000.1", "w1", At(1)), 1);
        Project(new MapSucceeded(Id, "m00000", "m00000.1", [0], At(2)), 2);
        Project(new TaskStarted(Id, "m00001", "m00001.1", "w1", At(1)), 3);
        Project(new MapSucceeded(Id, "m00001", "m00001.1", [0], At(2)), 4);
        Project(new TaskStarted(Id, "r00000", "r00000.1", "w2", At(5)), 5);
        Project(new TaskFailed(Id, "r00000", "r00000.1", "run m00000.1/p00000 is corrupt", Counted: true, At(6), LostMapAttempt: "m00000.1"), 6);
        Flush();

        var rows = _catalog.GetExecutions(Id).ToDictionary(r => r.AttemptId);
        Assert.Equal((ExecutionStatus.Failure, ExecutionOutcome.Lost, "its output was lost: run m00000.1/p00000 is corrupt", At(6)),
            (rows["m00000.1"].Status, rows["m00000.1"].Outcome, rows["m00000.1"].Error, rows["m00000.1"].UpdatedAt));
        Assert.Equal((ExecutionStatus.Failure, ExecutionOutcome.Failed, 0), (rows["r00000.1"].Status, rows["r00000.1"].Outcome, rows["r00000.1"].Partition));
        Assert.Equal(ExecutionStatus.Success, rows["m00001.1"].Status);
    }

    [Fact]
    public void Only_the_accepted_attempts_counters_are_written()
    {
        Project(Submitted, 0);
        Project(new TaskStarted(Id, "m00000", "m00000.1", "w1", At(1)), 1);
        Project(new TaskStarted(Id, "m00000", "m00000.2", "w2", At(2), Backup: true), 2);
        Project(new MapSucceeded(Id, "m00000", "m00000.2", [0], At(3), new Dictionary<string, long> { ["c"] = 2 }), 3);
        // The first attempt finishes too, later: the first success won.
        Project(new MapSucceeded(Id, "m00000", "m00000.1", [0], At(4), new Dictionary<string, long> { ["c"] = 1 }), 4);
        Flush();
        Assert.Equal(2, _catalog.GetCounters(Id).PerTask["m00000"]["c"]);
    }

    [Fact]
    public void A_succeeded_job_is_answered_once_its_final_row_and_its_result_dataset_are_written()
    {
        Project(Submitted, 0);
        var second = 1;
        foreach (var task in new[] { "m00000", "m00001", "r00000", "r00001" })
        {
            Project(new TaskStarted(Id, task, $"{task}.1", "w1", At(second)), second++);
            Project(task[0] == 'm'
                ? new MapSucceeded(Id, task, $"{task}.1", [0, 1], At(second))
                : new ReduceSucceeded(Id, task, $"{task}.1", $"jobs/{Id}/reduce/{task}.1/part-{task[1..]}", At(second)), second++);
        }
        Project(new JobSucceeded(Id, $"result-{Id}", [], At(20)), 20, [new Wait("kvstore", "unreachable", At(19))]);
        Sync();
        Assert.False(HasMessages); // not before the rows are written

        Scheduler.Advance(FlushEvery);
        Assert.Equal(new CatalogProjection.JobProjected(new JobId(Id)), ExpectMsg<CatalogProjection.JobProjected>(WriteTimeout));
        var job = _catalog.GetJob(Id)!;
        Assert.Equal((ExecutionStatus.Success, $"result-{Id}", (DateTime?)At(20), (string?)null), (job.Status, job.ResultDirId, job.FinishedAt, job.WaitingFor));
        var dataset = _catalog.GetDataset($"result-{Id}")!;
        Assert.Equal((DatasetKind.Output, $"job {Id}", 2, 2, At(20)), (dataset.Kind, dataset.Source, dataset.Documents, dataset.Chunks, dataset.CreatedAt));
        Assert.Equal(
            [("part-00000", $"jobs/{Id}/reduce/r00000.1/part-00000"), ("part-00001", $"jobs/{Id}/reduce/r00001.1/part-00001")],
            _catalog.GetChunks($"result-{Id}").Select(c => (c.DocId, c.ChunkId)).OrderBy(c => c.DocId, StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(false, ExecutionStatus.Failure, "stopped: the job failed")]
    [InlineData(true, ExecutionStatus.Cancelled, "stopped: the job was cancelled")]
    public void The_attempts_still_running_when_a_job_ends_are_stopped_in_their_rows(bool cancelled, string jobStatus, string why)
    {
        Project(Submitted, 0);
        Project(new TaskStarted(Id, "m00000", "m00000.1", "w1", At(1)), 1);
        Project(new MapSucceeded(Id, "m00000", "m00000.1", [0], At(2)), 2);
        Project(new TaskStarted(Id, "m00001", "m00001.1", "w2", At(3)), 3);
        Project(cancelled ? new JobCancelled(Id, At(4)) : new JobFailed(Id, "too many failures", At(4)), 4);
        Sync();
        Scheduler.Advance(FlushEvery);
        ExpectMsg<CatalogProjection.JobProjected>(WriteTimeout);

        Assert.Equal(jobStatus, _catalog.GetJob(Id)!.Status);
        var rows = _catalog.GetExecutions(Id).ToDictionary(r => r.AttemptId);
        Assert.Equal((ExecutionStatus.Success, ExecutionOutcome.Succeeded), (rows["m00000.1"].Status, rows["m00000.1"].Outcome));
        Assert.Equal((ExecutionStatus.Failure, ExecutionOutcome.Stopped, why, "w2", At(4)),
            (rows["m00001.1"].Status, rows["m00001.1"].Outcome, rows["m00001.1"].Error, rows["m00001.1"].Worker, rows["m00001.1"].UpdatedAt));
    }

    [Fact]
    public void A_map_an_incremental_job_reuses_has_a_counter_that_says_so()
    {
        var submitted = Submitted with
        {
            Maps = [Submitted.Maps[0] with { OutputId = "out-0", ReusedRuns = "jobs/job-20261129-080000-aaaaaa/map/m00000.1", ReusedPartitions = [0] }, Submitted.Maps[1]],
        };
        _job = JobState.From(submitted);
        Project(submitted, 0);
        Flush();
        Assert.Equal(new Dictionary<string, long> { ["map.reused"] = 1 }, _catalog.GetCounters(Id).PerTask["m00000"]);
        Assert.False(_catalog.GetCounters(Id).PerTask.ContainsKey("m00001"));
    }

    [Fact]
    public void Rows_that_cannot_be_written_are_kept_and_written_at_the_next_try()
    {
        // A catalog without its tables: every write fails.
        var broken = new CatalogStore(SqlLocation.SqliteFile(_folder.File("broken.db")));
        var projection = Sys.ActorOf(CatalogProjection.Props(broken, _clock));
        _clock.SetUtcNow(At(1));
        var failed = _job.Apply(new JobFailed(Id, "boom", At(1)));
        EventFilter.Warning(start: "catalog write failed, retrying in 1 s").ExpectOne(WriteTimeout, () =>
        {
            projection.Tell(new CatalogProjection.Project(new JobFailed(Id, "boom", At(1)), failed));
            projection.Tell(new Identify(null));
            ExpectMsg<ActorIdentity>(WriteTimeout);
            Scheduler.Advance(FlushEvery);
        });
        projection.Tell(new Identify(null));
        ExpectMsg<ActorIdentity>(WriteTimeout);
        Assert.False(HasMessages);

        broken.EnsureCreated();
        Scheduler.Advance(TimeSpan.FromSeconds(1));
        ExpectMsg<CatalogProjection.JobProjected>(WriteTimeout);
        Assert.Equal((ExecutionStatus.Failure, "boom"), (broken.GetJob(Id)!.Status, broken.GetJob(Id)!.Error));
    }

    [Fact]
    public void Rows_still_held_are_written_when_the_projection_stops()
    {
        Project(Submitted, 0);
        Project(new TaskStarted(Id, "m00000", "m00000.1", "w1", At(1)), 1);
        Watch(_projection);
        Sys.Stop(_projection);
        ExpectTerminated(_projection, WriteTimeout);
        Assert.Equal(ExecutionStatus.Running, _catalog.GetJob(Id)!.Status);
        Assert.Single(_catalog.GetExecutions(Id));
    }
}
