using MapReduce.Submit.Client;
using MapReduce.Submit.Display;
using Microsoft.Extensions.Time.Testing;
using Spectre.Console.Testing;

namespace MapReduce.Tests.Submit;

/// <summary>The terminal bars, drawn on Spectre's test console made to look interactive.</summary>
public class LiveProgressTests
{
    [Fact]
    public async Task Bars_show_labels_counts_and_rates_and_step_lines_stay_above()
    {
        var console = new TestConsole().Interactive().SupportsAnsi(true).Width(120);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var progress = new LiveProgress(console, time);
        progress.Report(new UploadProgress(1_000_000, 4_000_000));
        time.Advance(TimeSpan.FromSeconds(2));
        progress.Report(new UploadProgress(3_000_000, 4_000_000));
        progress.Report(new Uploaded("data", "data-x", 3, 8, 4_000_000, TimeSpan.FromSeconds(2)));
        progress.Report(new Submitted("job-1", 8, 4));
        time.Advance(TimeSpan.FromSeconds(4));
        progress.Report(new Progressed(8, 8, 1, 4));
        // After a take-over the counts are read again, lower for a moment: the bars keep their place.
        progress.Report(new Progressed(3, 8, 0, 4));
        time.Advance(TimeSpan.FromSeconds(1));
        progress.Report(new Progressed(8, 8, 4, 4));
        await progress.DisposeAsync();
        progress.Report(new Downloaded(4, 1_000, "/tmp/out", TimeSpan.FromSeconds(0.1)));

        var screen = console.Output;
        Assert.Contains("uploaded 3 files, 4.0 MB in 8 chunks as data-x (2.0 s)", screen);
        Assert.Contains("submitted job job-1: 8 map tasks, 4 reduce tasks", screen);
        var last = console.Lines.Where(l => l.Contains("map") || l.Contains("reduce") || l.Contains("upload")).TakeLast(3).ToArray();
        Assert.True(last.Length == 3, string.Join("\n", last));
        Assert.Matches(@"^upload .* 4\.0/4\.0 MB +2\.0 MB/s +00:00:02", last[0]);
        // 8 maps over 4 s for 4 MB of input.
        Assert.Matches(@"^map .* 8/8 +1\.0 MB/s +00:00:04", last[1]);
        // The reduce clock starts with the last map; the reduce done with it counts: 4 done in 1 s.
        Assert.Matches(@"^reduce .* 4/4 +4\.0 tasks/s +00:00:01", last[2]);
        Assert.DoesNotContain("3/8", screen);
        Assert.EndsWith("downloaded 4 parts, 0.0 MB into /tmp/out (0.1 s)", screen.TrimEnd());
    }

    [Fact]
    public async Task A_download_alone_draws_no_bars()
    {
        var console = new TestConsole().Interactive().SupportsAnsi(true);
        await using (var progress = new LiveProgress(console))
            progress.Report(new Downloaded(2, 2_000_000, "/tmp/out", TimeSpan.FromSeconds(1)));
        Assert.Equal("downloaded 2 parts, 2.0 MB into /tmp/out (1.0 s)", console.Output.Trim());
    }
}
