using MapReduce.Submit.Client;
using Spectre.Console;

namespace MapReduce.Submit.Display;

/// <summary>
/// Live bars for a terminal: upload, map and reduce, each with done/total, rate, elapsed and ETA.
/// Spectre's render loop runs from the first bar until dispose; JobRunner's events arrive on other
/// threads and only set bar values (ProgressTask locks itself). Step lines (uploaded, submitted,
/// waiting for the kvstore and back, downloaded) go through the same console, so they appear above the bars.
/// </summary>
public sealed class LiveProgress(IAnsiConsole console, TimeProvider? time = null) : IJobProgress
{
    private readonly Lock _lock = new();
    private readonly RisingCounts _counts = new();
    private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _display;
    private ProgressContext? _context;
    private ProgressTask? _upload, _map, _reduce;
    private long? _inputBytes;
    private bool _stopped;

    public void Report(JobEvent e)
    {
        lock (_lock)
        {
            switch (e)
            {
                case UploadProgress p when !_stopped:
                    _upload ??= AddBar("upload", p.BytesTotal, new BarInfo(true, null, 0));
                    Raise(_upload, p.BytesDone, p.BytesTotal);
                    break;
                case Uploaded u:
                    if (u.What == "data")
                    {
                        _inputBytes = u.Bytes;
                        if (_upload is not null) Finish(_upload, u.Bytes);
                    }
                    console.WriteLine(PlainProgress.Line(u));
                    break;
                case Submitted s:
                    console.WriteLine(PlainProgress.Line(s));
                    if (!_stopped) Show(new Progressed(0, s.MapTasks, 0, s.ReduceTasks));
                    break;
                case Progressed p when !_stopped:
                    Show(p);
                    break;
                case Downloaded d:
                    console.WriteLine(PlainProgress.Line(d));
                    break;
                case WaitStarted w:
                    console.WriteLine(PlainProgress.Line(w));
                    break;
                case WaitEnded w:
                    console.WriteLine(PlainProgress.Line(w));
                    break;
            }
        }
    }

    /// <summary>Stops the render loop, leaving the bars' last state on screen; later lines print below.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? display;
        lock (_lock)
        {
            _stopped = true;
            display = _display;
            foreach (var bar in new[] { _upload, _map, _reduce })
                if (bar is { IsStarted: true, StopTime: null }) bar.StopTask();
        }
        _stop.TrySetResult();
        if (display is not null) await display.ConfigureAwait(false);
    }

    private void Show(Progressed e)
    {
        // Reduces done before this report were done while we looked, unless this is the first look (`watch`).
        var before = _map is null ? null : _counts.Current;
        var c = _counts.Add(e);
        _map ??= AddBar("map", c.MapsTotal, new BarInfo(false, _inputBytes, c.MapsDone));
        _reduce ??= AddBar("reduce", c.ReducesTotal, null);
        Raise(_map, c.MapsDone, c.MapsTotal);
        // Reduces wait for the maps: their clock starts with the first reduce or the last map.
        if (!_reduce.IsStarted && (c.ReducesDone > 0 || (c.MapsTotal > 0 && c.MapsDone == c.MapsTotal)))
        {
            _reduce.Tag = new BarInfo(false, null, before?.ReducesDone ?? c.ReducesDone);
            _reduce.StartTask();
        }
        Raise(_reduce, c.ReducesDone, c.ReducesTotal);
    }

    /// <summary>A new bar; its clock starts now when <paramref name="info"/> is given, else on StartTask.</summary>
    private ProgressTask AddBar(string name, double total, BarInfo? info)
    {
        var bar = Context().AddTask(name, new ProgressTaskSettings { MaxValue = total, AutoStart = info is not null });
        bar.Tag = info;
        return bar;
    }

    private static void Raise(ProgressTask bar, double value, double total)
    {
        if (total > bar.MaxValue) bar.MaxValue = total;
        if (value > bar.Value) bar.Value = value;
        if (bar.IsStarted && bar.StopTime is null && total > 0 && bar.Value >= total) bar.StopTask();
    }

    private static void Finish(ProgressTask bar, double total)
    {
        Raise(bar, total, total);
        if (bar.StopTime is null) bar.StopTask();
    }

    /// <summary>Starts the render loop on the first bar: until then nothing is drawn.</summary>
    private ProgressContext Context()
    {
        if (_context is not null) return _context;
        var started = new TaskCompletionSource<ProgressContext>(TaskCreationOptions.RunContinuationsAsynchronously);
        var progress = new Progress(console, time ?? TimeProvider.System)
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new CountColumn(),
                new RateColumn(), new ElapsedTimeColumn(), new EtaColumn());
        _display = progress.StartAsync(async ctx =>
        {
            started.SetResult(ctx);
            await _stop.Task.ConfigureAwait(false);
        });
        // Spectre calls the action before its first await when the console is free, which it is here.
        _context = started.Task.GetAwaiter().GetResult();
        return _context;
    }
}
