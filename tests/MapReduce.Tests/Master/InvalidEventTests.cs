using Akka.Actor;
using Akka.Persistence;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Master;

/// <summary>An event that does not fit the master's state (forged, or written by hand) is neither journaled nor able to stop a recovery.</summary>
public sealed class InvalidEventTests : MasterTestKit
{
    private const string Job = "job-20261130-080000-abcdef";
    private static readonly DateTime At = new(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc);

    private static readonly JobSubmitted Submitted = new(Job, "code-1", "data-1", 2,
        [new MapInput("m00000", "a.txt", 0, "data/data-1/000000-000000"), new MapInput("m00001", "b.txt", 0, "data/data-1/000001-000000")], At);

    [Fact]
    public void The_state_says_why_an_event_does_not_fit_it()
    {
        var state = MasterState.Empty.Apply(Submitted);

        Assert.Null(state.Problem(new TaskStarted(Job, "m00001", "m00001.1", "w", At)));
        Assert.Null(state.Problem(new TaskFailed("job-unknown", "m99999", "x", "e", true, At))); // an unknown job's event changes nothing
        Assert.Equal($"job {Job} has no task 'm00042'", state.Problem(new TaskFailed(Job, "m00042", "m00042.1", "forged", true, At)));
        Assert.Equal($"job {Job} has no task '../../x'", state.Problem(new TaskStarted(Job, "../../x", "m00000.1", "w", At)));
        Assert.Equal("'m00000.one' is not an attempt of task m00000", state.Problem(new TaskStarted(Job, "m00000", "m00000.one", "w", At)));
        Assert.Equal("'m00001.1' is not an attempt of task m00000", state.Problem(new MapSucceeded(Job, "m00000", "m00001.1", [0], At)));
        Assert.Equal("its partitions are not within the job's 2", state.Problem(new MapSucceeded(Job, "m00000", "m00000.1", [0, 7], At)));
        Assert.Equal("its map task 1 is not m00001", MasterState.Empty.Problem(Submitted with { Maps = [Submitted.Maps[0], Submitted.Maps[0]] }));
    }

    [Fact]
    public void A_journal_holding_an_invalid_event_still_recovers_skipping_it_with_an_error()
    {
        // The journal as a forged TaskRejected could leave it before events were checked.
        var writer = Sys.ActorOf(Props.Create(() => new JournalWriter()));
        writer.Tell(new object[] { Submitted, new TaskFailed(Job, "m00042", "m00042.1", "worker had no free slot", false, At, true), new TaskStarted(Job, "m00000", "m00000.1", "w", At) });
        ExpectMsg<Akka.Done>();
        Watch(writer);
        Sys.Stop(writer);
        ExpectTerminated(writer);

        IActorRef master = null!;
        EventFilter.Error(start: $"journal event 2 skipped (TaskFailed of job {Job}): job {Job} has no task 'm00042'").ExpectOne(() => master = NewMaster());
        var status = StatusOf(master, new JobId(Job));
        Assert.Equal((JobStage.Running, 0, 2), (status.Stage, status.MapsDone, status.MapsTotal));

        // The events after it were replayed: m00000 ran as attempt 1, so it goes out again as attempt 2.
        var worker = CreateTestProbe();
        master.Tell(new RegisterWorker(worker.Ref, 2, []));
        Advance(master, Defaults.RecoveryGrace + TimeSpan.FromSeconds(1));
        var attempts = new[] { worker.ExpectMsg<RunMapTask>(), worker.ExpectMsg<RunMapTask>() }.Select(m => m.Attempt.Name).Order();
        Assert.Equal(["m00000.2", "m00001.1"], attempts);
    }

    /// <summary>Writes events under the master's persistence id, unchecked, and answers Done.</summary>
    private sealed class JournalWriter : ReceivePersistentActor
    {
        public override string PersistenceId => JobMaster.PersistenceIdValue;

        public JournalWriter()
        {
            Command<object[]>(events =>
            {
                var sender = Sender;
                PersistAll(events, _ => { });
                DeferAsync(events, _ => sender.Tell(Akka.Done.Instance));
            });
        }
    }
}
