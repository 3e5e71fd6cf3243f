using Spectre.Console;
using Spectre.Console.Rendering;

namespace MapReduce.Submit.Display;

/// <summary>
/// What a bar counts, kept in its <see cref="ProgressTask.Tag"/>: bytes (upload) or tasks, the
/// bytes a whole tasks bar stands for when known (map: the uploaded input), and the value the
/// bar had when its clock started (`watch` joins a job part way; those tasks were not done at this rate).
/// </summary>
public sealed record BarInfo(bool Bytes, long? BytesPerBar, double Baseline)
{
    public static BarInfo Of(ProgressTask task) => task.Tag as BarInfo ?? new BarInfo(false, null, 0);

    /// <summary>Average units per second since the bar's clock started; null while too early to say.</summary>
    public double? Rate(ProgressTask task) =>
        task.ElapsedTime is { TotalSeconds: >= 0.5 } elapsed && task.Value > Baseline ? (task.Value - Baseline) / elapsed.TotalSeconds : null;
}

/// <summary>"3/8" tasks or "12.3/45.6 MB".</summary>
public sealed class CountColumn : ProgressColumn
{
    public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
        new Text(BarInfo.Of(task).Bytes
            ? $"{task.Value / 1_000_000:0.0}/{task.MaxValue / 1_000_000:0.0} MB"
            : $"{task.Value:0}/{task.MaxValue:0}");
}

/// <summary>MB/s where bytes are known (upload; map when this command uploaded the input), else tasks/s.</summary>
public sealed class RateColumn : ProgressColumn
{
    public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
    {
        var info = BarInfo.Of(task);
        if (info.Rate(task) is not { } rate) return Text.Empty;
        if (info.Bytes) return new Text($"{rate / 1_000_000:0.0} MB/s");
        if (info.BytesPerBar is { } bytes && task.MaxValue > 0) return new Text($"{rate / task.MaxValue * bytes / 1_000_000:0.0} MB/s");
        return new Text($"{rate:0.0} tasks/s");
    }
}

/// <summary>Time left at the average rate so far; nothing once done or before there is a rate.</summary>
public sealed class EtaColumn : ProgressColumn
{
    public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
    {
        if (task.IsFinished || BarInfo.Of(task).Rate(task) is not { } rate) return Text.Empty;
        // The estimate in seconds, capped at a day for display: not a wait.
        var left = TimeSpan.FromSeconds(Math.Min((task.MaxValue - task.Value) / rate, TimeSpan.FromDays(1).TotalSeconds));
        return new Text($"ETA {(int)left.TotalMinutes}:{left.Seconds:00}");
    }
}
