using Akka.Actor;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Master;

/// <summary>
/// Backup tasks through the master, on the fake clock: a straggler near the end of the map phase
/// gets a second attempt on the other worker; the first success wins, the other attempt is stopped,
/// and the catalog counts the backup.
/// </summary>
public sealed class BackupTaskTests : MasterTestKit
{
    /// <summary>
    /// A job of 3 maps and 1 reduce on a slow and a fast worker of one slot each: the fast one runs
    /// two maps at once, and 3 s later the straggler on the slow one gets a backup on the fast one.
    /// </summary>
    private (Akka.TestKit.TestProbe Slow, Akka.TestKit.TestProbe Fast, JobId Job, AttemptId Straggler, AttemptId Backup) StragglerWithBackup(IActorRef master)
    {
        var slow = CreateTestProbe();
        var fast = CreateTestProbe();
        master.Tell(new RegisterWorker(slow.Ref, 1, []));
        master.Tell(new RegisterWorker(fast.Ref, 1, []));
        var job = Submit(master, reducers: 1);
        var straggler = slow.ExpectMsg<RunMapTask>().Attempt;
        master.Tell(new MapTaskSucceeded(fast.ExpectMsg<RunMapTask>().Attempt, [1]), fast.Ref);
        master.Tell(new MapTaskSucceeded(fast.ExpectMsg<RunMapTask>().Attempt, [1]), fast.Ref);
        Advance(master, TimeSpan.FromSeconds(3));
        var backup = fast.ExpectMsg<RunMapTask>().Attempt;
        return (slow, fast, job, straggler, backup);
    }

    [Fact]
    public void A_straggling_map_gets_a_backup_on_the_other_worker_the_first_success_wins_and_the_loser_is_stopped()
    {
        var master = NewMaster();
        var slow = CreateTestProbe();
        var fast = CreateTestProbe();
        master.Tell(new RegisterWorker(slow.Ref, 1, []));
        master.Tell(new RegisterWorker(fast.Ref, 1, []));
        var job = Submit(master);

        var straggler = slow.ExpectMsg<RunMapTask>().Attempt;
        master.Tell(new MapTaskSucceeded(fast.ExpectMsg<RunMapTask>().Attempt, [1, 1]), fast.Ref);
        Advance(master, TimeSpan.FromSeconds(1));
        master.Tell(new MapTaskSucceeded(fast.ExpectMsg<RunMapTask>().Attempt, [1, 1]), fast.Ref);
        // 2 of 3 maps done in 0 s and 1 s; the straggler has run 1 s: no backup yet (under the 2 s minimum).
        fast.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        Advance(master, TimeSpan.FromSeconds(1.5));
        var backup = fast.ExpectMsg<RunMapTask>();
        Assert.Equal(new AttemptId(job, straggler.Task, 2), backup.Attempt);

        // The backup finishes first: the straggler is told to stop, and its late success changes nothing.
        master.Tell(new MapTaskSucceeded(backup.Attempt, [2, 2]), fast.Ref);
        var stop = slow.ExpectMsg<CancelAttempt>();
        Assert.Equal(straggler, stop.Attempt);
        Assert.Equal($"attempt {backup.Attempt.Name} of its task finished first", stop.Reason);
        var reduce = fast.ExpectMsg<RunReduceTask>();
        slow.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // its slot stays taken until the straggler has stopped
        master.Tell(new MapTaskSucceeded(straggler, [9, 9]), slow.Ref); // it finished as it was told to stop
        Assert.Equal(3, StatusOf(master, job).MapsDone);
        var other = slow.ExpectMsg<RunReduceTask>();
        // The reduces read the backup's runs, not the straggler's.
        Assert.Equal(2, reduce.MapAttempts[straggler.Task.Index]);
        master.Tell(new ReduceTaskSucceeded(reduce.Attempt, 1), fast.Ref);
        master.Tell(new ReduceTaskSucceeded(other.Attempt, 1), slow.Ref);
        Assert.Equal(JobStage.Succeeded, StatusOf(master, job).Stage);

        AwaitAssert(() =>
        {
            var totals = Catalog.GetCounters(job.Value).Totals;
            Assert.Equal(6, totals[AttemptCounters.Attempts]);
            Assert.Equal(0, totals[AttemptCounters.Failed]);
            Assert.Equal(0, totals[AttemptCounters.Lost]);
            Assert.Equal(1, totals[AttemptCounters.BackupsLaunched]);
            Assert.Equal(1, totals[AttemptCounters.BackupsWon]);
        }, TimeSpan.FromSeconds(5));
        var executions = Catalog.GetExecutions(job.Value).ToDictionary(e => e.AttemptId);
        var lost = executions[straggler.Name];
        Assert.Equal((ExecutionStatus.Failure, ExecutionOutcome.Stopped, $"stopped: attempt {backup.Attempt.Name} of its task finished first", (int?)null),
            (lost.Status, lost.Outcome, lost.Error, lost.Backup));
        Assert.Equal((ExecutionStatus.Success, (int?)1), (executions[backup.Attempt.Name].Status, executions[backup.Attempt.Name].Backup));
    }

    [Fact]
    public void When_the_straggler_wins_the_backup_is_stopped_and_counted_as_launched_not_won()
    {
        var master = NewMaster();
        var (slow, fast, job, straggler, backup) = StragglerWithBackup(master);

        master.Tell(new MapTaskSucceeded(straggler, [1]), slow.Ref);
        Assert.Equal(backup, fast.ExpectMsg<CancelAttempt>().Attempt);
        var reduce = slow.ExpectMsg<RunReduceTask>();
        Assert.Equal(1, reduce.MapAttempts[straggler.Task.Index]);
        master.Tell(new ReduceTaskSucceeded(reduce.Attempt, 1), slow.Ref);
        Assert.Equal(JobStage.Succeeded, StatusOf(master, job).Stage);
        AwaitAssert(() =>
        {
            var totals = Catalog.GetCounters(job.Value).Totals;
            Assert.Equal((1L, 0L), (totals[AttemptCounters.BackupsLaunched], totals[AttemptCounters.BackupsWon]));
        }, TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// A straggler and its backup are one try: with max-task-attempts = 2, both failing (Map threw on
    /// the same input) uses up one attempt, not both, so the task runs a third time; that one failing
    /// too fails the job. (Counted twice, the pair once failed a job that skips bad records before it
    /// could find the line.)
    /// </summary>
    [Fact]
    public void A_straggler_and_its_backup_failing_side_by_side_count_as_one_failure()
    {
        var master = NewMaster(Defaults with { MaxTaskAttempts = 2 });
        var (slow, fast, job, straggler, backup) = StragglerWithBackup(master);

        master.Tell(new TaskAttemptFailed(straggler, FailureKind.UserCode, "Map threw on document 'a.txt', chunk 0: boom"), slow.Ref);
        Sync(master);
        Assert.Equal(JobStage.Running, StatusOf(master, job).Stage);
        master.Tell(new TaskAttemptFailed(backup, FailureKind.UserCode, "Map threw on document 'a.txt', chunk 0: boom"), fast.Ref);
        var third = new[] { slow, fast }.Select(p => p.ReceiveWhile(TimeSpan.FromMilliseconds(500), m => m as RunMapTask)).SelectMany(m => m).Single();
        Assert.Equal(new AttemptId(job, straggler.Task, 3), third!.Attempt);
        AwaitAssert(() =>
        {
            var executions = Catalog.GetExecutions(job.Value).ToDictionary(e => e.AttemptId);
            Assert.Equal($"Map threw on document 'a.txt', chunk 0: boom (not counted: attempt {backup.Name} of the task still runs)", executions[straggler.Name].Error);
            Assert.Equal("Map threw on document 'a.txt', chunk 0: boom", executions[backup.Name].Error);
        }, TimeSpan.FromSeconds(5));

        master.Tell(new TaskAttemptFailed(third.Attempt, FailureKind.UserCode, "Map threw on document 'a.txt', chunk 0: boom"), slow.Ref);
        Sync(master);
        Assert.Equal(JobStage.Failed, StatusOf(master, job).Stage);
    }

    [Fact]
    public void A_job_without_stragglers_launches_no_backup_and_has_no_backup_counters()
    {
        var master = NewMaster();
        var (w1, w2) = (CreateTestProbe(), CreateTestProbe());
        master.Tell(new RegisterWorker(w1.Ref, 1, []));
        master.Tell(new RegisterWorker(w2.Ref, 1, []));
        var job = Submit(master, reducers: 1);
        // Every map takes 1 s, the last one too: none runs past 2 s or 1.5x the median.
        var (m0, m1) = (w1.ExpectMsg<RunMapTask>().Attempt, w2.ExpectMsg<RunMapTask>().Attempt);
        Advance(master, TimeSpan.FromSeconds(1));
        master.Tell(new MapTaskSucceeded(m0, [1]), w1.Ref);
        var m2 = w1.ExpectMsg<RunMapTask>().Attempt;
        master.Tell(new MapTaskSucceeded(m1, [1]), w2.Ref);
        Advance(master, TimeSpan.FromSeconds(1));
        w2.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        master.Tell(new MapTaskSucceeded(m2, [1]), w1.Ref);
        var reduce = w1.ExpectMsg<RunReduceTask>(); // the worker with the most free slots, the first on ties
        master.Tell(new ReduceTaskSucceeded(reduce.Attempt, 1), w1.Ref);
        Assert.Equal(JobStage.Succeeded, StatusOf(master, job).Stage);
        AwaitAssert(() => Assert.Equal(4, Catalog.GetCounters(job.Value).Totals[AttemptCounters.Attempts]), TimeSpan.FromSeconds(5));
        Assert.False(Catalog.GetCounters(job.Value).Totals.ContainsKey(AttemptCounters.BackupsLaunched));
    }

    [Fact]
    public void Backups_off_leave_a_straggler_alone()
    {
        var master = NewMaster(Defaults with { BackupTasks = Defaults.BackupTasks with { Enabled = false } });
        var slow = CreateTestProbe();
        var fast = CreateTestProbe();
        master.Tell(new RegisterWorker(slow.Ref, 1, []));
        master.Tell(new RegisterWorker(fast.Ref, 1, []));
        Submit(master);
        slow.ExpectMsg<RunMapTask>();
        master.Tell(new MapTaskSucceeded(fast.ExpectMsg<RunMapTask>().Attempt, [1, 1]), fast.Ref);
        master.Tell(new MapTaskSucceeded(fast.ExpectMsg<RunMapTask>().Attempt, [1, 1]), fast.Ref);
        // 8 s: four times the minimum runtime, under worker-timeout (the probes do not announce themselves).
        Advance(master, TimeSpan.FromSeconds(8));
        fast.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }
}
