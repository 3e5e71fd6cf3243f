using System.Globalization;
using MapReduce.Actors.Protocol;
using MapReduce.Submit.Client;

namespace MapReduce.Submit.Display;

/// <summary>
/// One line per step, progress at most twice a second: for logs, CI and scripts (integration
/// tests parse these lines, so their wording is fixed).
/// </summary>
public sealed class PlainProgress(TextWriter output, TimeProvider? time = null) : IJobProgress
{
    /// <summary>The shortest gap between two progress lines: a display rate, not a wait, so not a setting.</summary>
    public static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(500);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly RisingCounts _counts = new();
    private DateTimeOffset _lastProgress = DateTimeOffset.MinValue;

    public void Report(JobEvent e)
    {
        lock (output)
        {
            switch (e)
            {
                case Uploaded u:
                    output.WriteLine(Line(u));
                    break;
                case UploadProgress p when Due():
                    output.WriteLine($"uploading: {Megabytes(p.BytesDone)} of {Megabytes(p.BytesTotal)}");
                    break;
                case Submitted s:
                    output.WriteLine(Line(s));
                    break;
                case Progressed p:
                    var j = _counts.Add(p);
                    if (Due() || (j.ReducesDone == j.ReducesTotal && j.MapsDone == j.MapsTotal))
                        output.WriteLine($"  map {j.MapsDone}/{j.MapsTotal}  reduce {j.ReducesDone}/{j.ReducesTotal}");
                    break;
                case Downloaded d:
                    output.WriteLine(Line(d));
                    break;
                case WaitStarted w:
                    output.WriteLine(Line(w));
                    break;
                case WaitEnded w:
                    output.WriteLine(Line(w));
                    break;
            }
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private bool Due()
    {
        var now = _time.GetUtcNow();
        if (now - _lastProgress < ProgressEvery) return false;
        _lastProgress = now;
        return true;
    }

    // The step lines are shared with the live display, which prints them above its bars.
    public static string Line(Uploaded u) => u.What == "code"
        ? $"uploaded code as {u.Id} ({u.Took.TotalSeconds:0.0} s)"
        : $"uploaded {u.Files} files, {Megabytes(u.Bytes)} in {u.Chunks} chunks as {u.Id} ({u.Took.TotalSeconds:0.0} s)";

    public static string Line(Submitted s) => $"submitted job {s.JobId}: {s.MapTasks} map tasks, {s.ReduceTasks} reduce tasks";

    public static string Line(Downloaded d) => $"downloaded {d.Parts} parts, {Megabytes(d.Bytes)} into {d.Folder} ({d.Took.TotalSeconds:0.0} s)";

    /// <summary>"waiting for the kvstore: unreachable since 17:42:03 (tasks resume when it is back)", the time on this machine's clock.</summary>
    public static string Line(WaitStarted w) =>
        $"waiting for the {w.What}: {w.Reason} since {DateTime.SpecifyKind(w.Since, DateTimeKind.Utc).ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture)} (tasks resume when it is back)";

    /// <summary>"kvstore is back after 12 s".</summary>
    public static string Line(WaitEnded w) => $"{w.What} is back after {Math.Round(w.After.TotalSeconds):0} s";

    public static string Megabytes(long bytes) => $"{bytes / 1_000_000.0:0.0} MB";
}
