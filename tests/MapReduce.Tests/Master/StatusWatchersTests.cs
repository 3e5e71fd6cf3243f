using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using Microsoft.Extensions.Time.Testing;
using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Tests.Master;

/// <summary>
/// Long polls held by the master: answered when the job's counts differ from what the asker knew,
/// when it ends or is forgotten, when what the jobs wait for changes, or when they waited long
/// enough, on a fake clock. The probes' queues are read at once: a Tell to a probe is enqueued before it returns.
/// </summary>
public sealed class StatusWatchersTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan LongPoll = TimeSpan.FromSeconds(1);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero));
    private readonly WaitTracker _waits = new();
    private readonly StatusWatchers _watchers;

    public StatusWatchersTests() => _watchers = new StatusWatchers(_waits);

    private DateTime At => _clock.GetUtcNow().UtcDateTime;

    /// <summary>A running job of two maps and two reduces.</summary>
    private JobState NewJob(string id = "job-20261130-080000-aaaaaa") => JobState.From(new JobSubmitted(id, "code-1", "data-1", 2,
    [
        new MapInput("m00000", "a.txt", 0, "data/data-1/000000-000000"),
        new MapInput("m00001", "a.txt", 1, "data/data-1/000000-000001"),
    ], At));

    private static JobState MapDone(JobState job, int map) =>
        job.Apply(new TaskStarted(job.Id.Value, $"m{map:D5}", $"m{map:D5}.1", "w", DateTime.UnixEpoch))
            .Apply(new MapSucceeded(job.Id.Value, $"m{map:D5}", $"m{map:D5}.1", [0, 1], DateTime.UnixEpoch));

    private static JobState ReduceDone(JobState job, int partition, int attempt = 1) =>
        job.Apply(new TaskStarted(job.Id.Value, $"r{partition:D5}", $"r{partition:D5}.{attempt}", "w", DateTime.UnixEpoch))
            .Apply(new ReduceSucceeded(job.Id.Value, $"r{partition:D5}", $"r{partition:D5}.{attempt}", "out", DateTime.UnixEpoch));

    [Fact]
    public void The_status_of_a_running_job_carries_what_it_waits_for_and_no_parts()
    {
        var job = MapDone(NewJob(), 1);
        var waits = new[] { new Wait("kvstore", "unreachable", At) };
        var status = StatusWatchers.StatusOf(job, waits);
        Assert.Equal((job.Id, JobStage.Running, 1, 2, 0, 2, (string?)null), (status.JobId, status.Stage, status.MapsDone, status.MapsTotal, status.ReducesDone, status.ReducesTotal, status.Error));
        Assert.Empty(status.PartAttempts);
        Assert.Same(waits, status.WaitingFor);
        Assert.Empty(StatusWatchers.StatusOf(job).WaitingFor!);
    }

    [Fact]
    public void The_status_of_a_succeeded_job_carries_each_parts_accepted_attempt_and_no_waits()
    {
        var job = ReduceDone(ReduceDone(MapDone(MapDone(NewJob(), 0), 1), 0, attempt: 2), 1)
            .Apply(new JobSucceeded("job-20261130-080000-aaaaaa", "result-x", [], At));
        var status = StatusWatchers.StatusOf(job, [new Wait("kvstore", "unreachable", At)]);
        Assert.Equal((JobStage.Succeeded, 2, 2, 2, 2), (status.Stage, status.MapsDone, status.MapsTotal, status.ReducesDone, status.ReducesTotal));
        Assert.Equal([2, 1], status.PartAttempts);
        Assert.Empty(status.WaitingFor!);
    }

    [Fact]
    public void An_asker_that_is_behind_is_answered_at_once()
    {
        var job = MapDone(NewJob(), 0);
        var asker = CreateTestProbe();
        _watchers.Ask(new GetJobStatus(job.Id), asker.Ref, job, At); // knows nothing (-1)
        Assert.Equal(1, asker.ExpectMsg<JobStatus>().MapsDone);

        _watchers.Ask(new GetJobStatus(job.Id, KnownMapsDone: 0, KnownReducesDone: 0), asker.Ref, job, At);
        Assert.Equal(1, asker.ExpectMsg<JobStatus>().MapsDone);
        Assert.Empty(_watchers.Jobs);
    }

    [Fact]
    public void A_question_about_a_finished_job_is_answered_at_once_whatever_the_asker_knew()
    {
        var job = NewJob().Apply(new JobFailed("job-20261130-080000-aaaaaa", "boom", At));
        var asker = CreateTestProbe();
        _watchers.Ask(new GetJobStatus(job.Id, 0, 0), asker.Ref, job, At);
        var status = asker.ExpectMsg<JobStatus>();
        Assert.Equal((JobStage.Failed, "boom"), (status.Stage, status.Error));
        Assert.Empty(_watchers.Jobs);
    }

    [Fact]
    public void A_question_the_state_does_not_answer_is_held_until_a_count_changes()
    {
        var job = NewJob();
        var asker = CreateTestProbe();
        _watchers.Ask(new GetJobStatus(job.Id, 0, 0), asker.Ref, job, At);
        Assert.False(asker.HasMessages);
        Assert.Equal([job.Id], _watchers.Jobs);

        _watchers.Answer(job, job.Id); // nothing changed
        Assert.False(asker.HasMessages);

        _watchers.Answer(MapDone(job, 1), job.Id);
        var status = asker.ExpectMsg<JobStatus>();
        Assert.Equal((1, 0), (status.MapsDone, status.ReducesDone));
        Assert.Empty(_watchers.Jobs);
    }

    [Fact]
    public void Only_the_askers_behind_the_new_state_are_answered()
    {
        var job = NewJob();
        var knowsNone = CreateTestProbe();
        var knowsOne = CreateTestProbe();
        _watchers.Ask(new GetJobStatus(job.Id, 0, 0), knowsNone.Ref, job, At);
        // Map 0 is done, and a question that knows it comes before the held ones are looked at.
        job = MapDone(job, 0);
        _watchers.Ask(new GetJobStatus(job.Id, 1, 0), knowsOne.Ref, job, At);
        Assert.False(knowsOne.HasMessages);

        _watchers.Answer(job, job.Id);
        Assert.Equal(1, knowsNone.ExpectMsg<JobStatus>().MapsDone);
        Assert.False(knowsOne.HasMessages);
        Assert.Equal([job.Id], _watchers.Jobs);
    }

    [Fact]
    public void Questions_about_one_job_are_not_answered_by_another()
    {
        var a = NewJob("job-20261130-080000-aaaaaa");
        var b = NewJob("job-20261130-080000-bbbbbb");
        var askerA = CreateTestProbe();
        var askerB = CreateTestProbe();
        _watchers.Ask(new GetJobStatus(a.Id, 0, 0), askerA.Ref, a, At);
        _watchers.Ask(new GetJobStatus(b.Id, 0, 0), askerB.Ref, b, At);

        _watchers.Answer(MapDone(b, 0), b.Id);
        Assert.Equal(b.Id, askerB.ExpectMsg<JobStatus>().JobId);
        Assert.False(askerA.HasMessages);
        Assert.Equal([a.Id], _watchers.Jobs);
    }

    [Fact]
    public void A_long_poll_is_answered_once_it_has_waited_long_enough_on_the_clock()
    {
        var job = NewJob();
        var early = CreateTestProbe();
        var late = CreateTestProbe();
        _watchers.Ask(new GetJobStatus(job.Id, 0, 0), early.Ref, job, At);
        _clock.Advance(TimeSpan.FromMilliseconds(400));
        _watchers.Ask(new GetJobStatus(job.Id, 0, 0), late.Ref, job, At);

        _clock.Advance(TimeSpan.FromMilliseconds(599)); // the first has waited 999 ms
        _watchers.Answer(job, job.Id, heldSince: At - LongPoll);
        Assert.False(early.HasMessages);

        _clock.Advance(TimeSpan.FromMilliseconds(1)); // 1 s: the same status, as a long poll's end
        _watchers.Answer(job, job.Id, heldSince: At - LongPoll);
        var status = early.ExpectMsg<JobStatus>();
        Assert.Equal((0, 0, JobStage.Running), (status.MapsDone, status.ReducesDone, status.Stage));
        Assert.False(late.HasMessages);
        Assert.Equal([job.Id], _watchers.Jobs);

        _clock.Advance(TimeSpan.FromMilliseconds(400));
        _watchers.Answer(job, job.Id, heldSince: At - LongPoll);
        late.ExpectMsg<JobStatus>();
        Assert.Empty(_watchers.Jobs);
    }

    [Fact]
    public void A_forgotten_job_is_unknown_to_everyone_who_waits_for_it()
    {
        var job = NewJob();
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        _watchers.Ask(new GetJobStatus(job.Id, 0, 0), first.Ref, job, At);
        _watchers.Ask(new GetJobStatus(job.Id, 0, 0), second.Ref, job, At);

        _watchers.Answer(null, job.Id);
        Assert.Equal(new UnknownJob(job.Id), first.ExpectMsg<UnknownJob>());
        Assert.Equal(new UnknownJob(job.Id), second.ExpectMsg<UnknownJob>());
        Assert.Empty(_watchers.Jobs);
    }

    [Fact]
    public void When_what_the_jobs_wait_for_changes_every_held_question_is_answered_with_it()
    {
        var a = NewJob("job-20261130-080000-aaaaaa");
        var b = NewJob("job-20261130-080000-bbbbbb");
        var askerA = CreateTestProbe();
        var askerB = CreateTestProbe();
        _watchers.Ask(new GetJobStatus(a.Id, 0, 0), askerA.Ref, a, At);
        _watchers.Ask(new GetJobStatus(b.Id, 0, 0), askerB.Ref, b, At);

        _waits.Begin("kvstore", "unreachable", At);
        _watchers.AnswerAll(id => id == a.Id ? a : null); // b was forgotten meanwhile
        Assert.Equal([new Wait("kvstore", "unreachable", At)], askerA.ExpectMsg<JobStatus>().WaitingFor!);
        Assert.Equal(new UnknownJob(b.Id), askerB.ExpectMsg<UnknownJob>());
        Assert.Empty(_watchers.Jobs);
    }

    [Fact]
    public void A_status_answered_at_once_carries_the_current_waits()
    {
        var job = NewJob();
        _waits.Begin("kvstore", "not in the cluster", At);
        var asker = CreateTestProbe();
        _watchers.Ask(new GetJobStatus(job.Id), asker.Ref, job, At);
        Assert.Equal([new Wait("kvstore", "not in the cluster", At)], asker.ExpectMsg<JobStatus>().WaitingFor!);
    }

    // With a status interval (the master's status-interval): a held question is answered with a
    // change of counts only once it has been held that long, and with a job's end at once.

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    [Theory]
    // held for, when the count changes -> answered then?
    [InlineData(0, false)]
    [InlineData(249, false)]
    [InlineData(250, true)]
    [InlineData(900, true)]
    public void With_an_interval_a_change_answers_a_question_only_once_it_was_held_that_long(int heldMs, bool answered)
    {
        var watchers = new StatusWatchers(_waits, Interval);
        var job = NewJob();
        watchers.Ask(new GetJobStatus(job.Id, 0, 0), TestActor, job, At);

        watchers.Answer(MapDone(job, 0), job.Id, now: At + TimeSpan.FromMilliseconds(heldMs));

        if (answered) Assert.Equal(1, ExpectMsg<JobStatus>().MapsDone);
        else ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void With_an_interval_a_change_held_back_is_answered_by_the_next_look_after_it_with_the_counts_of_then()
    {
        var watchers = new StatusWatchers(_waits, Interval);
        var job = NewJob();
        watchers.Ask(new GetJobStatus(job.Id, 0, 0), TestActor, job, At);
        job = MapDone(job, 0);
        watchers.Answer(job, job.Id, now: At + TimeSpan.FromMilliseconds(10));
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        job = MapDone(job, 1);

        // The master's tick looks with the long-poll cutoff; the question is younger than that.
        watchers.Answer(job, job.Id, heldSince: At - LongPoll, now: At + Interval);

        Assert.Equal(2, ExpectMsg<JobStatus>().MapsDone);
        Assert.Empty(watchers.Jobs);
    }

    [Fact]
    public void With_an_interval_a_job_that_ends_answers_at_once()
    {
        var watchers = new StatusWatchers(_waits, Interval);
        var job = NewJob();
        watchers.Ask(new GetJobStatus(job.Id, 0, 0), TestActor, job, At);

        watchers.Answer(job.Apply(new JobFailed(job.Id.Value, "boom", At)), job.Id, now: At + TimeSpan.FromMilliseconds(1));

        var status = ExpectMsg<JobStatus>();
        Assert.Equal(JobStage.Failed, status.Stage);
        Assert.Equal("boom", status.Error);
    }

    [Fact]
    public void With_an_interval_a_question_whose_asker_is_behind_is_answered_at_once()
    {
        var watchers = new StatusWatchers(_waits, Interval);
        var job = MapDone(NewJob(), 0);

        watchers.Ask(new GetJobStatus(job.Id, 0, 0), TestActor, job, At);

        Assert.Equal(1, ExpectMsg<JobStatus>().MapsDone);
        Assert.Empty(watchers.Jobs);
    }
}
