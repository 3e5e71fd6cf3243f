using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;

namespace MapReduce.Tests.Master;

/// <summary>When a job succeeds or fails, decided from its state after an event, as values.</summary>
public sealed class JobEndingTests
{
    private const string Job = "job-20261130-080000-abcdef";
    private static readonly DateTime At = new(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc);

    /// <summary>A job of two maps (m00000 done) and two reducers, after <paramref name="events"/>.</summary>
    private static JobState After(params IMasterEvent[] events)
    {
        var state = MasterState.Empty.Apply(new JobSubmitted(Job, "code-1", "data-1", 2,
            [new MapInput("m00000", "a.txt", 0, "k0"), new MapInput("m00001", "b.txt", 0, "k1")], At));
        foreach (var e in events) state = state.Apply(e);
        return state.Jobs[new JobId(Job)];
    }

    private static TaskFailed Failure(string attempt, bool counted, string error = "boom") => new(Job, attempt[..6], attempt, error, counted, At);

    private static readonly IMasterEvent[] MapsDone =
    [
        new TaskStarted(Job, "m00000", "m00000.1", "w", At), new MapSucceeded(Job, "m00000", "m00000.1", [0, 1], At),
        new TaskStarted(Job, "m00001", "m00001.1", "w", At), new MapSucceeded(Job, "m00001", "m00001.1", [1], At),
    ];

    public static TheoryData<string, IMasterEvent[], string?, IMasterEvent?> Rows() => new()
    {
        { "a map succeeds: the job goes on", MapsDone, null, null },
        { "one reduce of two succeeds: the job goes on", [.. MapsDone, new ReduceSucceeded(Job, "r00000", "r00000.1", "o", At)], null, null },
        { "the last reduce succeeds: the job succeeds with each partition's accepted attempt",
            [.. MapsDone, new ReduceSucceeded(Job, "r00000", "r00000.2", "o", At), new ReduceSucceeded(Job, "r00001", "r00001.1", "o", At)], null,
            new JobSucceeded(Job, $"result-{Job}", [$"jobs/{Job}/reduce/r00000.2/part-00000", $"jobs/{Job}/reduce/r00001.1/part-00001"], At) },
        { "a second counted failure: the job goes on", [Failure("m00001.1", true), Failure("m00001.2", true)], null, null },
        { "a third counted failure: the job fails naming the task, its input and the last error",
            [Failure("m00001.1", true), Failure("m00001.2", true), Failure("m00001.3", true, "Map threw: bad line")], null,
            new JobFailed(Job, "map task m00001 (document 'b.txt', chunk 0) failed 3 times; last error: Map threw: bad line", At) },
        { "uncounted failures never fail the job", [Failure("m00001.1", false), Failure("m00001.2", false), Failure("m00001.3", false), Failure("m00001.4", false)], null, null },
        { "a failure that fails the job at once (compile error)", [Failure("m00000.1", false, "task.csx does not compile")], "task.csx does not compile",
            new JobFailed(Job, "task.csx does not compile", At) },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void The_job_ends_when_its_state_says_so(string row, IMasterEvent[] events, string? failsJob, IMasterEvent? expected)
    {
        Assert.False(string.IsNullOrEmpty(row));
        var end = JobEnding.After(After(events), events[^1], maxTaskAttempts: 3, At, failsJob);
        Assert.Equal(Text(expected), Text(end));
    }

    [Fact]
    public void A_job_that_has_ended_ends_no_more()
    {
        var failed = After(Failure("m00000.1", true)).Apply(new JobFailed(Job, "x", At));
        Assert.Null(JobEnding.After(failed, Failure("m00000.2", true), 1, At));
    }

    /// <summary>Records holding arrays compare by reference: compared as the journal writes them.</summary>
    private static string? Text(IMasterEvent? e) => e is null ? null : $"{e.GetType().Name} {System.Text.Json.JsonSerializer.Serialize(e, e.GetType())}";
}
