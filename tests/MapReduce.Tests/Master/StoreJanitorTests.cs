using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Configs;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;

namespace MapReduce.Tests.Master;

/// <summary>The janitor on Akka's test scheduler: a job's clean-up outlasts a kvstore that is away for minutes.</summary>
public sealed class StoreJanitorTests() : Akka.TestKit.Xunit2.TestKit(TestConfigs.TestSchedulerConfig)
{
    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    private static JobState SucceededJob() => JobState.From(new JobSubmitted("job-20261130-174203-abcdef", "code-1", "data-1", 1,
        [new MapInput("m00000", "a.txt", 0, "data/data-1/000000-000000")], new DateTime(2026, 11, 30, 17, 42, 3, DateTimeKind.Utc))) with { Stage = JobStage.Succeeded };

    /// <summary>
    /// Returns once the janitor has handled what it had been sent, and what it sent itself meanwhile
    /// (a try's outcome, which starts the timer of the next): two questions in a row, each answered in turn.
    /// </summary>
    private void Settle(IActorRef janitor)
    {
        for (var i = 0; i < 2; i++)
        {
            janitor.Tell(new Identify(i));
            ExpectMsg<ActorIdentity>();
        }
    }

    [Fact]
    public void A_clean_up_that_cannot_reach_the_kvstore_is_tried_again_with_back_off_until_it_is_back_and_only_then_reported_done()
    {
        var kvstore = CreateTestProbe();
        var tries = new List<DateTimeOffset>();
        // Away for the first seven tries (longer than a minute in all), then back.
        Task<IActorRef> Find(TimeSpan timeout)
        {
            lock (tries)
            {
                tries.Add(Scheduler.Now);
                return tries.Count <= 7
                    ? Task.FromException<IActorRef>(new KvStoreUnreachableException($"no kvstore node is up in the cluster after {timeout.TotalSeconds:0} s"))
                    : Task.FromResult(kvstore.Ref);
            }
        }
        int Tries()
        {
            lock (tries) return tries.Count;
        }
        var janitor = ChildActorOf(StoreJanitor.Props(Find, TimeSpan.FromSeconds(30)));
        var job = SucceededJob();
        janitor.Tell(new StoreJanitor.CleanUp(job));

        // Tried again after 1, 2, 4, 8, 16 s, then every 30 s: never sooner, and then at once.
        foreach (var (delay, n) in new[] { 1, 2, 4, 8, 16, 30, 30 }.Select((d, i) => (TimeSpan.FromSeconds(d), i + 1)))
        {
            AwaitCondition(() => Tries() == n);
            Settle(janitor);
            Scheduler.Advance(delay - TimeSpan.FromMilliseconds(1));
            Settle(janitor);
            Assert.Equal(n, Tries());
            Scheduler.Advance(TimeSpan.FromMilliseconds(1));
        }
        var remove = kvstore.ExpectMsg<KvStoreProtocol.CleanUpJob>();
        Assert.Equal(job.Id, remove.Job);
        Assert.Equal(StoreJanitor.Leftovers(job), remove.Leftovers);
        Assert.Equal(8, Tries());
        ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // not done until the kvstore has deleted it

        kvstore.Reply(new KvStoreProtocol.FoldersRemoved(2));
        Assert.Equal(job.Id, ExpectMsg<StoreJanitor.CleanedUp>().Job);
    }

    /// <summary>
    /// One clean-up per job, which carries the job so the kvstore fences its folder before it
    /// deletes anything; no sweep later (a timer would be lost at a take-over), whatever the outcome.
    /// </summary>
    [Theory]
    [InlineData(JobStage.Succeeded)]
    [InlineData(JobStage.Failed)]
    [InlineData(JobStage.Cancelled)]
    public void A_job_is_cleaned_up_once_with_its_end_marker_and_never_swept_again(JobStage stage)
    {
        var kvstore = CreateTestProbe();
        var janitor = ChildActorOf(StoreJanitor.Props(_ => Task.FromResult(kvstore.Ref), TimeSpan.FromSeconds(30)));
        var job = SucceededJob() with { Stage = stage };
        janitor.Tell(new StoreJanitor.CleanUp(job));

        var cleanUp = kvstore.ExpectMsg<KvStoreProtocol.CleanUpJob>();
        Assert.Equal(job.Id, cleanUp.Job);
        string[] leftovers = stage == JobStage.Succeeded ? [$"jobs/{job.Id}/map"] : [$"jobs/{job.Id}"];
        Assert.Equal(leftovers, cleanUp.Leftovers);
        kvstore.Reply(new KvStoreProtocol.FoldersRemoved(1));
        Assert.Equal(job.Id, ExpectMsg<StoreJanitor.CleanedUp>().Job);

        // Past the workers' cancel grace and the old late sweep's 30 s, and much later: nothing more.
        foreach (var _ in Enumerable.Range(0, 10))
        {
            Scheduler.Advance(TimeSpan.FromMinutes(1));
            Settle(janitor);
        }
        kvstore.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }
}
