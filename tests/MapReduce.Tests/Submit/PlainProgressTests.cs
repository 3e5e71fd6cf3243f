using MapReduce.Actors.Protocol;
using MapReduce.Submit;
using MapReduce.Submit.Client;
using MapReduce.Submit.Display;
using Microsoft.Extensions.Time.Testing;

namespace MapReduce.Tests.Submit;

/// <summary>The plain lines that scripts and the integration tests read, word for word.</summary>
public class PlainProgressTests
{
    [Fact]
    public async Task Steps_print_the_lines_scripts_read()
    {
        var output = new StringWriter();
        await using (var progress = ConsoleProgress.For(output))
        {
            Assert.IsType<PlainProgress>(progress);
            progress.Report(new Uploaded("code", "code-0123456789abcdef", 1, 1, 300, TimeSpan.FromSeconds(0.2)));
            progress.Report(new Uploaded("data", "data-x", 3, 8, 2_500_000, TimeSpan.FromSeconds(1.2)));
            progress.Report(new Submitted("job-1", 8, 4));
            progress.Report(new Progressed(8, 8, 4, 4));
            progress.Report(new Downloaded(4, 1_200_000, "/tmp/out", TimeSpan.FromSeconds(0.3)));
        }
        Assert.Equal(
            [
                "uploaded code as code-0123456789abcdef (0.2 s)",
                "uploaded 3 files, 2.5 MB in 8 chunks as data-x (1.2 s)",
                "submitted job job-1: 8 map tasks, 4 reduce tasks",
                "  map 8/8  reduce 4/4",
                "downloaded 4 parts, 1.2 MB into /tmp/out (0.3 s)",
            ],
            Lines(output));
    }

    [Fact]
    public async Task Counts_read_again_after_a_take_over_never_print_lower()
    {
        var output = new StringWriter();
        var clock = new FakeTimeProvider();
        await using var progress = new PlainProgress(output, clock);
        progress.Report(new Progressed(6, 8, 0, 4));
        // A new master re-reads the journal: fewer maps done for a moment.
        clock.Advance(PlainProgress.ProgressEvery);
        progress.Report(new Progressed(2, 8, 0, 4));
        clock.Advance(PlainProgress.ProgressEvery);
        progress.Report(new Progressed(7, 8, 1, 4));
        progress.Report(new Progressed(8, 8, 4, 4));
        Assert.Equal(["  map 6/8  reduce 0/4", "  map 6/8  reduce 0/4", "  map 7/8  reduce 1/4", "  map 8/8  reduce 4/4"], Lines(output));
    }

    [Fact]
    public async Task Waiting_for_the_kvstore_is_said_once_when_it_starts_and_once_when_it_is_back()
    {
        var since = new DateTime(2026, 11, 30, 17, 42, 3, DateTimeKind.Utc);
        var clock = new FakeTimeProvider(since - TimeSpan.FromSeconds(4)); // the first answer came 4 s before the master noticed
        var waits = new WaitChanges(clock);
        var output = new StringWriter();
        await using (var progress = new PlainProgress(output, clock))
        {
            var kvstore = new ApiModels.Waiting("kvstore", "unreachable", since);
            // The progress answers, about one a second: nothing, then the wait (repeated), then nothing again.
            foreach (var answer in new[] { [], [kvstore], [kvstore], [kvstore], null, Array.Empty<ApiModels.Waiting>() })
            {
                foreach (var change in waits.Update(answer)) progress.Report(change);
                clock.Advance(TimeSpan.FromSeconds(4));
            }
        }
        Assert.Equal(
            [
                $"waiting for the kvstore: unreachable since {since.ToLocalTime():HH:mm:ss} (tasks resume when it is back)",
                "kvstore is back after 12 s",
            ],
            Lines(output));
    }

    [Fact]
    public async Task Quiet_prints_nothing()
    {
        var output = new StringWriter();
        await using var progress = ConsoleProgress.For(output, quiet: true);
        progress.Report(new Submitted("job-1", 8, 4));
        progress.Report(new Progressed(8, 8, 4, 4));
        Assert.Empty(output.ToString());
    }

    private static string[] Lines(StringWriter output) => output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
}
