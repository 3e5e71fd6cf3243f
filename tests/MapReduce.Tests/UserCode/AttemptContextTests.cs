using System.Text;
using MapReduce.Actors.UserCode;

namespace MapReduce.Tests.UserCode;

/// <summary>Count and console output of task.csx land in the attempt whose code runs, also when attempts run at once.</summary>
public sealed class AttemptContextTests
{
    private const string CountingWordCount = """
        IEnumerable<(string, int)> Map(string docId, string chunk)
        {
            foreach (var w in chunk.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                Count("words");
                Count("letters", w.Length);
                yield return (w, 1);
            }
        }
        int Combine(string key, IEnumerable<int> values)
        {
            Count("combine.calls");
            Count("combined", values.Count());
            return values.Sum();
        }
        int Reduce(string key, IEnumerable<int> values)
        {
            Count("keys");
            return values.Sum();
        }
        """;

    [Fact]
    public void Count_in_Map_Combine_and_Reduce_adds_up_in_the_attempt_that_runs_the_code()
    {
        var task = ScriptCompiler.Compile(CountingWordCount);
        var map = new AttemptContext();
        var run = new KeepOpenStream();
        // "a" three times: its values are combined once, three of them, when the runs are written; "b" once needs no Combine.
        var pairs = map.Run(() => RunMap(task, "a ab a a", _ => run));
        Assert.Equal(4, pairs);
        Assert.Equal(new Dictionary<string, long>
        {
            ["user.words"] = 4, ["user.letters"] = 5, ["user.combine.calls"] = 1, ["user.combined"] = 3,
        }, map.UserCounters());

        var reduce = new AttemptContext();
        run.Position = 0;
        using var output = new MemoryStream();
        var counts = reduce.Run(() => task.RunReduce([run], output, "t"));
        Assert.Equal(new ReduceCounts(Groups: 2, Lines: 2), counts);
        Assert.Equal(new Dictionary<string, long> { ["user.keys"] = 2 }, reduce.UserCounters());
        Assert.Equal("a\t3\nab\t1\n", Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public async Task Attempts_running_at_once_in_one_process_count_apart()
    {
        var task = ScriptCompiler.Compile(CountingWordCount);
        var attempts = Enumerable.Range(1, 4).Select(_ => new AttemptContext()).ToArray();
        using var start = new Barrier(attempts.Length);
        var runs = attempts.Select((attempt, i) => Task.Run(() =>
        {
            start.SignalAndWait();
            // Attempt i maps i * 1000 words, in chunks, so the attempts interleave.
            for (var chunk = 0; chunk < 10 * (i + 1); chunk++)
                attempt.Run(() => RunMap(task, string.Join(' ', Enumerable.Repeat("w", 100)), _ => new MemoryStream()));
        })).ToArray();
        await Task.WhenAll(runs);
        Assert.Equal([1000L, 2000, 3000, 4000], attempts.Select(a => a.UserCounters()["user.words"]));
    }

    [Fact]
    public void Count_outside_an_attempt_is_ignored()
    {
        var task = ScriptCompiler.Compile(CountingWordCount);
        Assert.Equal(2, RunMap(task, "x y", _ => new MemoryStream()));
        Assert.Null(AttemptContext.Current);
    }

    [Fact]
    public void More_distinct_counters_than_the_cap_fail_the_attempt_with_a_clear_message()
    {
        var task = ScriptCompiler.Compile("""
            IEnumerable<(string, int)> Map(string docId, string chunk)
            {
                foreach (var w in chunk.Split(' ')) { Count(w); yield return (w, 1); }
            }
            int Reduce(string key, IEnumerable<int> values) => values.Sum();
            """);
        var attempt = new AttemptContext();
        var words = string.Join(' ', Enumerable.Range(0, AttemptContext.MaxUserCounters + 1).Select(i => $"c{i}"));
        var e = Assert.Throws<UserCodeException>(() => attempt.Run(() => RunMap(task, words, _ => new MemoryStream())));
        Assert.Equal("Map threw on t: InvalidOperationException: Count(\"c100\"): a task may use at most 100 distinct counters (a counter names a category, not a key)", e.Message);

        var longName = new string('n', AttemptContext.MaxNameLength + 1);
        var tooLong = Assert.Throws<UserCodeException>(() => new AttemptContext().Run(() => RunMap(task, longName, _ => new MemoryStream())));
        Assert.Equal($"Map threw on t: ArgumentException: counter name '{longName[..40]}...' is longer than 100 characters", tooLong.Message);
    }

    [Fact]
    public async Task Console_output_goes_to_the_log_of_the_attempt_that_prints_it_under_concurrency()
    {
        var task = ScriptCompiler.Compile("""
            IEnumerable<(string, int)> Map(string docId, string chunk)
            {
                Console.WriteLine($"map {docId}");
                Console.Error.Write("err ");
                Console.Error.WriteLine(docId);
                yield return (chunk, 1);
            }
            int Reduce(string key, IEnumerable<int> values) => values.Sum();
            """);
        var attempts = Enumerable.Range(0, 4).Select(_ => new AttemptContext()).ToArray();
        using var start = new Barrier(attempts.Length);
        await Task.WhenAll(attempts.Select((attempt, i) => Task.Run(() =>
        {
            start.SignalAndWait();
            for (var n = 0; n < 200; n++)
                attempt.Run(() => task.RunMap($"a{i}-{n}", "x", task.NewMapOutput(1, 1 << 20, Path.GetTempPath()), "t"));
        })).ToArray());
        for (var i = 0; i < attempts.Length; i++)
        {
            var expected = string.Concat(Enumerable.Range(0, 200).Select(n => $"map a{i}-{n}\nerr a{i}-{n}\n"));
            Assert.Equal(expected, attempts[i].LogText(null));
        }
    }

    [Fact]
    public void A_log_keeps_its_first_MiB_and_says_it_was_cut_and_a_failure_follows_it()
    {
        var attempt = new AttemptContext();
        var line = new string('x', 999);
        attempt.Run(() =>
        {
            for (var i = 0; i < 1100; i++) Console.WriteLine(line); // 1,100,000 characters
            return 0;
        });
        var log = attempt.LogText("attempt failed\n");
        const string note = "\n[log truncated: an attempt keeps the first 1048576 characters of its console output]\n";
        Assert.Equal(AttemptContext.MaxLogChars + note.Length + "attempt failed\n".Length, log.Length);
        Assert.EndsWith(note + "attempt failed\n", log);
        Assert.Equal("", new AttemptContext().LogText(null));
    }

    private static long RunMap(IUserTask task, string chunk, Func<int, Stream> openRun)
    {
        var output = task.NewMapOutput(1, 1 << 20, Path.GetTempPath());
        var pairs = task.RunMap("d", chunk, output, "t");
        output.WriteRuns(openRun, "t");
        return pairs;
    }

    private sealed class KeepOpenStream : MemoryStream
    {
        protected override void Dispose(bool disposing) { }
    }
}
