using MapReduce.Actors.Protocol;
using static MapReduce.Actors.Master.FailureRules;

namespace MapReduce.Tests.Master;

/// <summary>docs/master.md's table "what counts", one row per row of the table (and its variants), as values.</summary>
public sealed class FailureRulesTests
{
    private static readonly AttemptId Map2 = new(new JobId("job-1"), TaskId.Map(2), 1);
    private const string W = "akka.tcp://mapreduce@10.0.0.7:4100";

    public static TheoryData<string, Ending, bool, Verdict> Rows() => new()
    {
        { "Map/Reduce/Combine threw", new(How.Threw, Map2, W, "Map threw on document 'a.txt', chunk 0: boom"), false,
            new("Map threw on document 'a.txt', chunk 0: boom", Counted: true) },
        { "its worker's process exited under this attempt's code", new(How.WorkerExited, Map2, W, ExitCode: 3, Culprit: true), false,
            new("worker process exited with code 3 while running map m00002", Counted: true) },
        { "its worker's process exited under another attempt's code", new(How.WorkerExited, Map2, W, ExitCode: 3, Culprit: false), false,
            new($"worker {W} is shutting down", Counted: false, Lost: true) },
        { "its worker's process exited, culprit unknown, code not 0: every attempt counts", new(How.WorkerExited, Map2, W, ExitCode: 3), false,
            new("worker process exited with code 3 while running map m00002", Counted: true) },
        { "its worker's process exited, culprit unknown, code 0", new(How.WorkerExited, Map2, W, ExitCode: 0), false,
            new($"worker {W} is shutting down", Counted: false, Lost: true) },
        { "its worker vanished without a word", new(How.WorkerLost, Map2, W, Why: "was lost (its process died or its node became unreachable)"), false,
            new($"worker {W} was lost (its process died or its node became unreachable) while running map m00002", Counted: true, Lost: true) },
        { "its worker went silent", new(How.WorkerLost, Map2, W, Why: "has not answered for 30 s"), false,
            new($"worker {W} has not answered for 30 s while running map m00002", Counted: true, Lost: true) },
        { "it ran past task-timeout", new(How.TimedOut, Map2, W, Timeout: TimeSpan.FromMinutes(10)), false,
            new($"timed out after 600 s on {W}", Counted: true, Lost: true) },
        { "its worker was stopped on purpose", new(How.WorkerStopping, Map2, W), false,
            new($"worker {W} is shutting down", Counted: false, Lost: true) },
        { "the worker refused it", new(How.Refused, Map2, W), false,
            new("worker had no free slot", Counted: false, Lost: true) },
        { "the worker never received it", new(How.NeverReceived, Map2, W), false,
            new($"worker {W} never received it", Counted: false, Lost: true) },
        { "it failed on storage, the kvstore there all along", new(How.StorageFailed, Map2, W, "disk full"), false,
            new("disk full", Counted: true) },
        { "it failed on storage while the kvstore was away", new(How.StorageFailed, Map2, W, "kvstore unreachable"), true,
            new("kvstore unreachable (not counted: the kvstore was away)", Counted: false) },
        { "it ran past task-timeout while the kvstore was away", new(How.TimedOut, Map2, W, Timeout: TimeSpan.FromMinutes(10)), true,
            new($"timed out after 600 s on {W} (not counted: the kvstore was away)", Counted: false, Lost: true) },
        { "user code threw while the kvstore was away: it counts", new(How.Threw, Map2, W, "boom"), true,
            new("boom", Counted: true) },
        { "its worker's scratch disk was full", new(How.DiskFull, Map2, W, "scratch disk full: No space left on device : '/d/scratch/p00000'"), false,
            new("scratch disk full: No space left on device : '/d/scratch/p00000' (not counted: the worker's scratch disk is full)", Counted: false) },
        { "compile error", new(How.CompileError, Map2, W, "task.csx does not compile:\ntask.csx(1,9): error CS1525"), false,
            new("task.csx does not compile:\ntask.csx(1,9): error CS1525", Counted: false, FailsJob: true) },
        { "a reduce found a map run corrupt", new(How.RunCorrupt, Map2, W, "map run K is corrupt (checksum mismatch): map task m00001 runs again"), false,
            new("map run K is corrupt (checksum mismatch): map task m00001 runs again", Counted: false) },
        { "Map threw while a backup of the same task still runs: the backup decides", new(How.Threw, Map2, W, "boom", Twin: "m00002.2"), false,
            new("boom (not counted: attempt m00002.2 of the task still runs)", Counted: false) },
        { "its worker vanished while the attempt it backs up still runs", new(How.WorkerLost, Map2, W, Why: "was lost (its process died or its node became unreachable)", Twin: "m00002.1"), false,
            new($"worker {W} was lost (its process died or its node became unreachable) while running map m00002 (not counted: attempt m00002.1 of the task still runs)", Counted: false, Lost: true) },
        { "an uncounted failure stays uncounted beside a twin", new(How.DiskFull, Map2, W, "scratch disk full", Twin: "m00002.2"), false,
            new("scratch disk full (not counted: the worker's scratch disk is full)", Counted: false) },
        { "a compile error fails the job whatever runs beside it", new(How.CompileError, Map2, W, "task.csx does not compile", Twin: "m00002.2"), false,
            new("task.csx does not compile", Counted: false, FailsJob: true) },
        { "a map found its input chunk corrupt", new(How.InputCorrupt, Map2, W, "input chunk K of dataset D is corrupt (checksum mismatch)"), false,
            new("input chunk K of dataset D is corrupt (checksum mismatch)", Counted: false, FailsJob: true) },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Each_row_of_what_counts(string row, Ending ending, bool kvstoreAway, Verdict expected)
    {
        Assert.False(string.IsNullOrEmpty(row));
        Assert.Equal(expected, Classify(ending, kvstoreAway));
    }
}
