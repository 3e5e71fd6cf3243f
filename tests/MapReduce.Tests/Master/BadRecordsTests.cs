using System.Collections.Immutable;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;

namespace MapReduce.Tests.Master;

/// <summary>Skipping bad records (--skip-bad-records), as pure decisions: one row per rule of docs/master.md.</summary>
public sealed class BadRecordsTests
{
    private const string Job = "job-20261207-160000-abcdef";
    private static readonly DateTime At = new(2026, 12, 7, 16, 0, 0, DateTimeKind.Utc);
    private static readonly InputLine Seven = new("a.txt", 0, 7);
    private static readonly InputLine Nine = new("a.txt", 0, 9);

    public static TheoryData<string, bool, InputLine?, InputLine?, BadRecords.Verdict> Verdicts() => new()
    {
        { "a job that does not skip: as without skipping", false, Seven, Seven, BadRecords.Verdict.NotSkipping },
        { "a failure that names no line (whole chunks, or a crash): as without skipping", true, Seven, null, BadRecords.Verdict.NotSkipping },
        { "the first failure on a line: the task's suspect", true, null, Seven, BadRecords.Verdict.Suspect },
        { "a failure on another line than the suspect: the new suspect", true, Seven, Nine, BadRecords.Verdict.Suspect },
        { "the same line as the last failure named: skipped", true, Seven, Seven, BadRecords.Verdict.Skip },
        { "the same line number in another chunk is another line", true, Seven, new InputLine("a.txt", 1, 7), BadRecords.Verdict.Suspect },
    };

    [Theory]
    [MemberData(nameof(Verdicts))]
    public void A_failure_on_a_line_is_judged_against_the_tasks_suspect(string row, bool skips, InputLine? suspect, InputLine? failedOn, BadRecords.Verdict expected)
    {
        Assert.False(string.IsNullOrEmpty(row));
        Assert.Equal(expected, BadRecords.Judge(skips, suspect, failedOn));
    }

    private static JobState After(bool skips, params IMasterEvent[] events)
    {
        var state = MasterState.Empty.Apply(new JobSubmitted(Job, "code-1", "data-1", 1,
            [new MapInput("m00000", "a.txt", 0, "k0"), new MapInput("m00001", "b.txt", 0, "k1")], At, skips));
        foreach (var e in events) state = state.Apply(e);
        return state.Jobs[new JobId(Job)];
    }

    private static TaskFailed Failure(string attempt, InputLine? line = null, bool counted = true) => new(Job, attempt[..6], attempt, "boom", counted, At, Line: line);

    private static RecordSkipped Skipped(string attempt, InputLine line) => new(Job, attempt[..6], attempt, line, "boom", At);

    public static TheoryData<string, bool, IMasterEvent[], bool, long[]> Plans() => new()
    {
        { "a job that does not skip maps whole chunks, after failures too", false, [Failure("m00000.1"), Failure("m00000.2", Seven)], false, [] },
        { "a first attempt maps whole chunks", true, [], false, [] },
        { "after a failure that named no line: line by line, nothing to skip yet", true, [Failure("m00000.1")], true, [] },
        { "a suspect is not skipped yet", true, [Failure("m00000.1"), Failure("m00000.2", Seven)], true, [] },
        { "a skipped line stays skipped after the count starts over", true, [Failure("m00000.1"), Failure("m00000.2", Seven), Failure("m00000.3", Seven, counted: false), Skipped("m00000.3", Seven)], true, [7] },
        { "another task's skipped line is not this task's", true, [Skipped("m00001.3", new InputLine("b.txt", 0, 2))], false, [] },
    };

    [Theory]
    [MemberData(nameof(Plans))]
    public void A_map_task_runs_line_by_line_once_it_failed_in_a_job_that_skips(string row, bool skips, IMasterEvent[] events, bool byLine, long[] skippedLines)
    {
        Assert.False(string.IsNullOrEmpty(row));
        var job = After(skips, events);
        var task = job.Maps[0];
        Assert.Equal(byLine, BadRecords.RunsByLine(job, task));
        Assert.Equal(skippedLines, BadRecords.SkippedOf(job, task).Select(l => l.Line));
    }

    [Fact]
    public void A_skipped_line_starts_the_tasks_count_over_and_is_kept_by_the_job()
    {
        var suspected = After(true, Failure("m00000.1"), Failure("m00000.2", Seven));
        Assert.Equal((2, Seven), (suspected.Maps[0].CountedFailures, suspected.Maps[0].Suspect));

        var skipped = After(true, Failure("m00000.1"), Failure("m00000.2", Seven), Failure("m00000.3", Seven, counted: false), Skipped("m00000.3", Seven));

        Assert.Equal((0, (InputLine?)null), (skipped.Maps[0].CountedFailures, skipped.Maps[0].Suspect));
        Assert.Equal([Seven], skipped.SkippedRecords.Select(s => s.Line));
    }

    [Fact]
    public void One_line_more_than_max_skipped_records_fails_the_job_naming_the_limit_and_the_line()
    {
        var two = After(true, Skipped("m00000.3", Seven), Skipped("m00000.5", Nine));

        Assert.Null(JobEnding.After(two, two.SkippedRecords[^1], maxTaskAttempts: 3, At, maxSkippedRecords: 2));
        var failed = Assert.IsType<JobFailed>(JobEnding.After(two, two.SkippedRecords[^1], maxTaskAttempts: 3, At, maxSkippedRecords: 1));
        Assert.Equal("Map failed on more than 1 lines (mapreduce.max-skipped-records = 1); the last: document 'a.txt', line 9: boom", failed.Reason);
    }

    [Fact]
    public void A_snapshot_keeps_the_skip_list_and_each_tasks_suspect()
    {
        var job = After(true, Skipped("m00000.3", Seven), Failure("m00000.4", Nine));
        var state = new MasterState(ImmutableDictionary<JobId, JobState>.Empty.Add(job.Id, job));
        var options = new System.Text.Json.JsonSerializerOptions { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };
        var json = System.Text.Json.JsonSerializer.Serialize(state.ToSnapshot(), options);

        var back = MasterState.From(System.Text.Json.JsonSerializer.Deserialize<MasterSnapshot>(json, options)!).Jobs[job.Id];

        Assert.True(back.SkipBadRecords);
        Assert.Equal([Seven], back.SkippedRecords.Select(s => s.Line));
        Assert.Equal(Nine, back.Maps[0].Suspect);
    }

    [Fact]
    public void Lines_are_named_by_document_and_line_and_by_chunk_past_the_first()
    {
        Assert.Equal("document 'a.txt', line 7", Seven.Describe());
        Assert.Equal("document 'a.txt', chunk 2, line 7 of the chunk", new InputLine("a.txt", 2, 7).Describe());
    }
}
