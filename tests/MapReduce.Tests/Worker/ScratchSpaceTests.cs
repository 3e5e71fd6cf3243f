using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.UserCode;
using MapReduce.Actors.Worker;
using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Tests.Worker;

/// <summary>A full scratch disk: how a worker's failed attempt is reported, and when the worker offers no slot.</summary>
public sealed class ScratchSpaceTests
{
    private static readonly AttemptId Map2 = new(new JobId("job-1"), TaskId.Map(2), 1);
    private static readonly DateTime T0 = new(2026, 12, 7, 19, 30, 0, DateTimeKind.Utc);
    private const long MiB = 1 << 20;

    public static TheoryData<string, Exception, FailureKind, string> Failures() => new()
    {
        { "its scratch disk was full", new IOException("No space left on device : '/d/scratch/1/p00000'", 28),
            FailureKind.DiskFull, "scratch disk full: No space left on device : '/d/scratch/1/p00000'" },
        { "the kvstore's disk was full: the kvstore's trouble, said as such", new KvStoreDiskFullException("kvstore disk full: cannot store k: no space left in the folder /s (waited 30 s for space)"),
            FailureKind.Infrastructure, "KvStoreDiskFullException: kvstore disk full: cannot store k: no space left in the folder /s (waited 30 s for space)" },
        { "user code that threw on its own full disk: the user's", new UserCodeException("Map threw on a.txt, line 1: IOException: full", new IOException("full", 28)),
            FailureKind.UserCode, "Map threw on a.txt, line 1: IOException: full" },
        { "another I/O error", new IOException("Input/output error", 5), FailureKind.Infrastructure, "IOException: Input/output error" },
        { "output refused because its job has ended: over, not failed", new KvStoreJobEndedException("job j has ended; this attempt's output is discarded (jobs/j/map/m00000.2/p00000 was not kept)"),
            FailureKind.Stopped, "job j has ended; this attempt's output is discarded (jobs/j/map/m00000.2/p00000 was not kept)" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void An_attempt_that_failed_is_reported_by_what_failed(string what, Exception e, FailureKind kind, string error)
    {
        Assert.False(string.IsNullOrEmpty(what));
        Assert.Equal(new TaskAttemptFailed(Map2, kind, error), TaskExecutor.Failed(Map2, e, CancellationToken.None));
    }

    [Fact]
    public void Below_the_minimum_free_space_the_worker_offers_no_slot_and_says_why()
    {
        long free = 10 * MiB;
        var scratch = new ScratchSpace("/d/scratch/1", 64 * MiB, TimeSpan.FromSeconds(30), _ => free);
        Assert.Equal("scratch disk full (10 MiB free in /d/scratch/1, under the 64 MiB of mapreduce.worker.min-free-scratch), not offering slots", scratch.Shortage(T0));
        free = 64 * MiB;
        Assert.Null(scratch.Shortage(T0));
    }

    [Fact]
    public void After_an_attempt_ran_out_of_space_the_worker_offers_no_slot_for_the_pause()
    {
        var scratch = new ScratchSpace("/d/scratch/1", 64 * MiB, TimeSpan.FromSeconds(30), _ => 100 * MiB);
        Assert.Null(scratch.Shortage(T0));
        scratch.Filled(T0);
        Assert.Equal("scratch disk full (an attempt ran out of space in /d/scratch/1 at 19:30:00 UTC), not offering slots until 19:30:30 UTC",
            scratch.Shortage(T0.AddSeconds(29)));
        Assert.Null(scratch.Shortage(T0.AddSeconds(30)));
        Assert.Null(scratch.Shortage(T0.AddSeconds(1))); // the pause is over once it has passed
    }

    [Fact]
    public void Free_space_that_cannot_be_told_is_taken_as_enough()
    {
        var scratch = new ScratchSpace("/d/scratch/1", 64 * MiB, TimeSpan.FromSeconds(30), _ => null);
        Assert.Null(scratch.Shortage(T0));
    }
}
