using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Tests.Master;

/// <summary>
/// <see cref="StatusWatchers"/> with a status interval: a held status question is answered with a
/// change of counts only once it has been held that long (a client following a job asks again at
/// once, and would otherwise ask once per finished task), and with a job's end at once.
/// </summary>
public sealed class StatusIntervalTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly JobId Job = new("job-1");
    private static readonly DateTime T0 = new(2026, 12, 7, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Nothing = TimeSpan.FromMilliseconds(100);

    private static MasterState Submitted() => MasterState.Empty.Apply(new JobSubmitted(Job.Value, "code-1", "data-1", 1,
        [new MapInput("m00000", "a.txt", 0, "data/d/0"), new MapInput("m00001", "b.txt", 0, "data/d/1")], T0));

    private static MasterState MapDone(MasterState state, int map) => state
        .Apply(new TaskStarted(Job.Value, $"m0000{map}", $"m0000{map}.1", "w", T0))
        .Apply(new MapSucceeded(Job.Value, $"m0000{map}", $"m0000{map}.1", [0], T0));

    [Theory]
    // held for, when the count changes -> answered then?
    [InlineData(0, false)]
    [InlineData(249, false)]
    [InlineData(250, true)]
    [InlineData(900, true)]
    public void A_change_answers_a_question_only_once_it_was_held_the_interval(int heldMs, bool answered)
    {
        var watchers = new StatusWatchers(new WaitTracker(), Interval);
        var state = Submitted();
        watchers.Ask(new GetJobStatus(Job, 0, 0), TestActor, state.Jobs[Job], T0);
        state = MapDone(state, 0);

        watchers.Answer(state.Jobs[Job], Job, now: T0 + TimeSpan.FromMilliseconds(heldMs));

        if (answered) Assert.Equal(1, ExpectMsg<JobStatus>().MapsDone);
        else ExpectNoMsg(Nothing);
    }

    [Fact]
    public void A_change_held_back_is_answered_by_the_next_look_after_the_interval_with_the_counts_of_then()
    {
        var watchers = new StatusWatchers(new WaitTracker(), Interval);
        var state = Submitted();
        watchers.Ask(new GetJobStatus(Job, 0, 0), TestActor, state.Jobs[Job], T0);
        state = MapDone(state, 0);
        watchers.Answer(state.Jobs[Job], Job, now: T0 + TimeSpan.FromMilliseconds(10));
        ExpectNoMsg(Nothing);
        state = MapDone(state, 1);

        // The master's tick looks with the long-poll cutoff; the question is younger than that.
        watchers.Answer(state.Jobs[Job], Job, heldSince: T0 - TimeSpan.FromSeconds(1), now: T0 + Interval);

        Assert.Equal(2, ExpectMsg<JobStatus>().MapsDone);
        Assert.Empty(watchers.Jobs);
    }

    [Fact]
    public void A_job_that_ends_answers_at_once()
    {
        var watchers = new StatusWatchers(new WaitTracker(), Interval);
        var state = Submitted();
        watchers.Ask(new GetJobStatus(Job, 0, 0), TestActor, state.Jobs[Job], T0);
        state = state.Apply(new JobFailed(Job.Value, "boom", T0));

        watchers.Answer(state.Jobs[Job], Job, now: T0 + TimeSpan.FromMilliseconds(1));

        var status = ExpectMsg<JobStatus>();
        Assert.Equal(JobStage.Failed, status.Stage);
        Assert.Equal("boom", status.Error);
    }

    [Fact]
    public void A_question_whose_asker_is_behind_is_answered_at_once_whatever_the_interval()
    {
        var watchers = new StatusWatchers(new WaitTracker(), Interval);
        var state = MapDone(Submitted(), 0);

        watchers.Ask(new GetJobStatus(Job, 0, 0), TestActor, state.Jobs[Job], T0);

        Assert.Equal(1, ExpectMsg<JobStatus>().MapsDone);
        Assert.Empty(watchers.Jobs);
    }
}
