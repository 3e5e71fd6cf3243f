using System.Diagnostics;

namespace MapReduce.Actors.Worker;

/// <summary>Where one task attempt spent its time, for the worker's log: "code 0 ms, fetch 3 ms, map 41 ms, store 2 ms".</summary>
public sealed class PhaseTimes
{
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly List<(string Phase, double Ms)> _laps = [];

    /// <summary>Time since the last lap goes to <paramref name="phase"/>; laps of one phase add up (a task of several chunks fetches and maps each).</summary>
    public void Lap(string phase)
    {
        var ms = _watch.Elapsed.TotalMilliseconds;
        _watch.Restart();
        var i = _laps.FindIndex(l => l.Phase == phase);
        if (i >= 0) _laps[i] = (phase, _laps[i].Ms + ms);
        else _laps.Add((phase, ms));
    }

    public override string ToString() => string.Join(", ", _laps.Select(l => $"{l.Phase} {l.Ms:0} ms"));
}
