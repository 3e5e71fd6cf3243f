using Akka.Actor;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using static MapReduce.Actors.Master.AttemptEvent;
using static MapReduce.Actors.Master.AttemptState;

namespace MapReduce.Tests.Master;

/// <summary>
/// The master's workers and attempts: joining and leaving, slots that follow from the attempts
/// holding one, attempts lost or adopted by announcements, and records kept until the job is
/// archived (so a late report is checked against the worker the attempt was given to). Time is
/// passed in as values. (The transition table itself: <see cref="AttemptLifecycleTests"/>.)
/// </summary>
public sealed class WorkerRegistryTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTime T0 = new(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan LostAfter = TimeSpan.FromSeconds(10);
    private static readonly JobId Job = new("job-20261130-080000-aaaaaa");
    private static readonly JobId OtherJob = new("job-20261130-080000-bbbbbb");

    private readonly List<string> _refused = [];
    private readonly WorkerRegistry _registry;
    private readonly IActorRef _worker;
    private readonly IActorRef _other;

    public WorkerRegistryTests()
    {
        _registry = new WorkerRegistry(_refused.Add);
        _worker = CreateTestProbe("worker-a").Ref;
        _other = CreateTestProbe("worker-b").Ref;
    }

    private static DateTime At(double seconds) => T0.AddSeconds(seconds);

    private static AttemptId Map(int index, int number = 1, JobId? job = null) => new(job ?? Job, TaskId.Map(index), number);

    private (bool Joined, List<AttemptId> Lost)? Announce(IActorRef worker, int slots, double at, params AttemptId[] running) =>
        _registry.Announce(worker, slots, running, _ => false, At(at), LostAfter);

    [Fact]
    public void A_worker_joins_with_its_first_announcement()
    {
        Assert.Equal(0, _registry.Count);
        var first = Announce(_worker, 2, 0)!.Value;
        Assert.True(first.Joined);
        Assert.Empty(first.Lost);
        Assert.False(Announce(_worker, 2, 2)!.Value.Joined);
        Assert.Equal(1, _registry.Count);
        Assert.Equal(new Dictionary<IActorRef, int> { [_worker] = 2 }, _registry.FreeSlots());
    }

    [Fact]
    public void Free_slots_follow_from_the_attempts_that_hold_one()
    {
        Announce(_worker, 3, 0);
        _registry.Start(Map(0), _worker, At(1));
        _registry.Start(Map(1), _worker, At(1));
        Assert.Equal(1, _registry.FreeSlots()[_worker]);
        _registry.Start(Map(2), _worker, At(1));
        Assert.Empty(_registry.FreeSlots()); // a worker with none free is not listed

        _registry.Fire(Map(0), Succeed);
        _registry.Fire(Map(1), TimeOut); // stopping: still holds its slot
        Assert.Equal(1, _registry.FreeSlots()[_worker]);
        _registry.Fire(Map(1), ConfirmStop);
        Assert.Equal(2, _registry.FreeSlots()[_worker]);
    }

    [Fact]
    public void An_announcement_with_fewer_slots_than_are_taken_offers_none()
    {
        Announce(_worker, 2, 0);
        _registry.Start(Map(0), _worker, At(1));
        _registry.Start(Map(1), _worker, At(1));
        Announce(_worker, 1, 2, Map(0), Map(1));
        Assert.Empty(_registry.FreeSlots());
        Announce(_worker, 4, 4, Map(0), Map(1));
        Assert.Equal(2, _registry.FreeSlots()[_worker]);
    }

    [Fact]
    public void Attempts_a_worker_lists_that_this_master_does_not_know_take_slots_too()
    {
        Announce(_worker, 3, 0, Map(7, job: OtherJob), Map(8, job: OtherJob));
        Assert.Equal(1, _registry.FreeSlots()[_worker]);
        Assert.Null(_registry.Find(Map(7, job: OtherJob)));
        Announce(_worker, 3, 2, Map(7, job: OtherJob));
        Assert.Equal(2, _registry.FreeSlots()[_worker]);
    }

    [Fact]
    public void After_a_take_over_the_attempts_a_worker_lists_that_are_its_tasks_current_ones_are_adopted()
    {
        var current = Map(0, 2);
        var stale = Map(0, 1);
        var joined = _registry.Announce(_worker, 3, [current, stale], a => a == current, At(5), LostAfter)!.Value;
        Assert.Equal((true, 0), (joined.Joined, joined.Lost.Count));

        var adopted = _registry.Find(current)!;
        Assert.Equal((current, _worker, At(5), Running), (adopted.Id, adopted.Worker, adopted.Since, adopted.State));
        Assert.True(_registry.IsRunning(current));
        Assert.Null(_registry.Find(stale));
        Assert.Equal(1, _registry.RunningPerJob[Job]);
        Assert.Equal(1, _registry.FreeSlots()[_worker]); // one adopted, one unknown
    }

    /// <summary>An attempt handed out at 0 s that the worker does not list at <paramref name="at"/>: lost only once lost-after (10 s) has passed.</summary>
    [Theory]
    [InlineData(5, false)]
    [InlineData(10, false)] // exactly lost-after: it may still be on its way
    [InlineData(10.001, true)]
    [InlineData(60, true)]
    public void A_running_attempt_its_worker_does_not_list_is_lost_after_lost_after(double at, bool lost)
    {
        Announce(_worker, 2, 0);
        _registry.Start(Map(0), _worker, At(0));
        var result = Announce(_worker, 2, at)!.Value;
        Assert.Equal(lost ? new List<AttemptId> { Map(0) } : [], result.Lost);
        Assert.Equal(lost ? Lost : Running, _registry.Find(Map(0))!.State);
        Assert.Equal(lost ? 2 : 1, _registry.FreeSlots()[_worker]);
    }

    [Fact]
    public void A_listed_attempt_is_never_lost()
    {
        Announce(_worker, 2, 0);
        _registry.Start(Map(0), _worker, At(0));
        Assert.Empty(Announce(_worker, 2, 60, Map(0))!.Value.Lost);
        Assert.True(_registry.IsRunning(Map(0)));
    }

    [Fact]
    public void A_stopping_attempt_its_worker_no_longer_lists_has_stopped_at_once_and_is_not_reported_lost()
    {
        Announce(_worker, 1, 0);
        _registry.Start(Map(0), _worker, At(0));
        _registry.Fire(Map(0), JobEnds);
        Assert.Empty(Announce(_worker, 1, 1)!.Value.Lost);
        Assert.Equal(Stopped, _registry.Find(Map(0))!.State);
        Assert.Equal(1, _registry.FreeSlots()[_worker]);
    }

    [Fact]
    public void A_worker_that_said_it_is_leaving_is_not_taken_back_by_a_later_announcement()
    {
        Announce(_worker, 2, 0);
        _registry.Depart(_worker);
        Assert.Null(Announce(_worker, 2, 1));
        Assert.Empty(_registry.Drop(_worker, WorkerLeaves)!);
        Assert.Equal(0, _registry.Count);
        Assert.Null(Announce(_worker, 2, 2)); // still departed
        // Its process gone (Terminated), the departure is forgotten: a new node at that address may join.
        Assert.Null(_registry.Drop(_worker, WorkerLost, forgetDeparture: true));
        Assert.True(Announce(_worker, 2, 3)!.Value.Joined);
    }

    /// <summary>What happens to a worker's attempts when it is dropped, by how it went and where each attempt stood.</summary>
    [Theory]
    [InlineData(WorkerLeaves, Running, Lost, true)]
    [InlineData(WorkerLost, Running, Lost, true)]
    [InlineData(WorkerLeaves, Stopping, Stopped, false)]
    [InlineData(WorkerLost, Stopping, Stopped, false)]
    public void Dropping_a_worker_ends_the_attempts_holding_its_slots(AttemptEvent why, AttemptState before, AttemptState after, bool returned)
    {
        Announce(_worker, 2, 0);
        _registry.Start(Map(0), _worker, At(0));
        if (before == Stopping) _registry.Fire(Map(0), TimeOut);
        _registry.Start(Map(1), _worker, At(0));
        _registry.Fire(Map(1), Succeed);

        var running = _registry.Drop(_worker, why)!;
        Assert.Equal(returned ? new List<AttemptId> { Map(0) } : [], running);
        Assert.Equal((after, Succeeded), (_registry.Find(Map(0))!.State, _registry.Find(Map(1))!.State));
        Assert.Equal(0, _registry.Count);
        Assert.Empty(_registry.FreeSlots());
        Assert.Empty(_registry.RunningPerJob);
        Assert.Empty(_refused);
    }

    [Fact]
    public void Dropping_a_worker_that_is_not_known_returns_null()
    {
        Assert.Null(_registry.Drop(_worker, WorkerLost));
    }

    [Fact]
    public void An_attempts_record_keeps_the_worker_it_was_given_to_after_that_worker_is_gone()
    {
        Announce(_worker, 1, 0);
        Announce(_other, 1, 0);
        _registry.Start(Map(0), _worker, At(1));
        _registry.Drop(_worker, WorkerLost);

        // A late report: the master checks its sender against this record (MasterCore.FromItsWorker).
        var record = _registry.Find(Map(0))!;
        Assert.Equal(_worker, record.Worker);
        Assert.NotEqual(_other, record.Worker);
        // A success from the lost worker after all: its output is whole.
        Assert.Equal(Lost, _registry.Fire(Map(0), Succeed));
        Assert.Equal(Succeeded, record.State);
        Assert.Equal(1, _registry.FreeSlots()[_other]);
    }

    [Fact]
    public void An_impossible_transition_is_refused_logged_and_changes_nothing()
    {
        Announce(_worker, 1, 0);
        _registry.Start(Map(0), _worker, At(0));
        Assert.Null(_registry.Fire(Map(0), ConfirmStop)); // nobody asked it to stop
        Assert.Equal([$"attempt {Map(0)} is Running: ConfirmStop cannot happen to it, and is refused"], _refused);
        Assert.True(_registry.IsRunning(Map(0)));
        Assert.Equal(1, _registry.RunningPerJob[Job]);
        Assert.Empty(_registry.FreeSlots());
    }

    [Fact]
    public void An_event_about_an_attempt_never_handed_out_is_ignored_silently()
    {
        Assert.Null(_registry.Fire(Map(0), Succeed));
        Assert.False(_registry.IsRunning(Map(0)));
        Assert.Empty(_refused);
    }

    [Fact]
    public void A_refusing_worker_offers_no_slot_until_it_announces_itself_again()
    {
        Announce(_worker, 2, 0);
        _registry.Start(Map(0), _worker, At(0));
        Assert.Equal(Running, _registry.Fire(Map(0), Refuse));
        _registry.Full(_worker);
        Assert.Empty(_registry.FreeSlots());
        Announce(_worker, 2, 2);
        Assert.Equal(2, _registry.FreeSlots()[_worker]);
        _registry.Full(_other); // not known: nothing happens
        Assert.Equal(0, _registry.FreeSlots().GetValueOrDefault(_other));
    }

    [Fact]
    public void Why_a_worker_offers_no_slot_is_recorded_when_it_changes()
    {
        Assert.False(_registry.Unavailable(_worker, "scratch disk full")); // not known yet
        Announce(_worker, 2, 0);
        Assert.True(_registry.Unavailable(_worker, "scratch disk full"));
        Assert.False(_registry.Unavailable(_worker, "scratch disk full"));
        Assert.Equal("scratch disk full", _registry.Describe().Single().Unavailable);
        Assert.True(_registry.Unavailable(_worker, null));
        Assert.Null(_registry.Describe().Single().Unavailable);
    }

    [Fact]
    public void Running_attempts_are_counted_per_job()
    {
        Announce(_worker, 4, 0);
        _registry.Start(Map(0), _worker, At(0));
        _registry.Start(Map(1), _worker, At(0));
        _registry.Start(Map(0, job: OtherJob), _worker, At(0));
        Assert.Equal(new Dictionary<JobId, int> { [Job] = 2, [OtherJob] = 1 }, _registry.RunningPerJob.ToDictionary());
        Assert.Equal([Map(0), Map(1)], _registry.RunningOf(Job).Select(a => a.Id).OrderBy(a => a.Name));

        _registry.Fire(Map(0), Fail);
        _registry.Fire(Map(0, job: OtherJob), Superseded);
        Assert.Equal(new Dictionary<JobId, int> { [Job] = 1 }, _registry.RunningPerJob.ToDictionary());
        Assert.Equal([Map(1)], _registry.RunningOf(Job).Select(a => a.Id));
        Assert.Empty(_registry.RunningOf(OtherJob));
    }

    [Fact]
    public void An_archived_jobs_attempts_are_forgotten_and_their_slots_freed()
    {
        Announce(_worker, 3, 0);
        _registry.Start(Map(0), _worker, At(0));
        _registry.Start(Map(1), _worker, At(0));
        _registry.Fire(Map(1), JobEnds); // still stopping
        _registry.Start(Map(0, job: OtherJob), _worker, At(0));

        _registry.ForgetJob(Job);
        Assert.Null(_registry.Find(Map(0)));
        Assert.Null(_registry.Find(Map(1)));
        Assert.Null(_registry.Fire(Map(0), Succeed)); // a late report: nothing to change
        Assert.Empty(_refused);
        Assert.Equal(2, _registry.FreeSlots()[_worker]);
        Assert.Equal(new Dictionary<JobId, int> { [OtherJob] = 1 }, _registry.RunningPerJob.ToDictionary());
        Assert.True(_registry.IsRunning(Map(0, job: OtherJob)));
        _registry.ForgetJob(Job); // twice: nothing happens
    }

    /// <summary>With task-timeout 60 s at 100 s: attempts started at 30 s run for 70 s, at 40 s exactly 60 s, at 50 s 50 s.</summary>
    [Fact]
    public void Running_longer_than_a_limit_counts_only_running_attempts_strictly_past_it()
    {
        Announce(_worker, 4, 0);
        _registry.Start(Map(0), _worker, At(30));
        _registry.Start(Map(1), _worker, At(40));
        _registry.Start(Map(2), _worker, At(50));
        _registry.Start(Map(3), _worker, At(30));
        _registry.Fire(Map(3), TimeOut); // already stopping: not timed out twice
        Assert.Equal([Map(0)], _registry.RunningLongerThan(TimeSpan.FromSeconds(60), At(100)).Select(a => a.Id));
    }

    [Fact]
    public void A_worker_is_silent_once_it_has_not_announced_itself_for_longer_than_the_limit()
    {
        Announce(_worker, 1, 0);
        Announce(_other, 1, 5);
        var limit = TimeSpan.FromSeconds(10);
        Assert.Empty(_registry.SilentFor(limit, At(10)));
        Assert.Equal([_worker], _registry.SilentFor(limit, At(10.5)));
        Announce(_worker, 1, 10.5);
        Assert.Equal([_other], _registry.SilentFor(limit, At(15.5)));
    }

    [Fact]
    public void The_status_page_lists_each_worker_with_its_slots_and_the_attempts_it_runs()
    {
        Announce(_worker, 3, 0);
        _registry.Start(Map(1), _worker, At(0));
        _registry.Start(Map(0), _worker, At(0));
        _registry.Start(Map(2), _worker, At(0));
        _registry.Fire(Map(2), Superseded); // stopping: holds a slot, but no longer runs for the job

        var info = Assert.Single(_registry.Describe());
        Assert.Equal(_worker.Path.Address.ToString(), info.Address);
        Assert.Equal(3, info.Slots);
        Assert.Equal([$"{Job}/m00000.1", $"{Job}/m00001.1"], info.Running);
    }
}
