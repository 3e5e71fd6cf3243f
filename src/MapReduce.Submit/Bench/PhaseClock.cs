using System.Diagnostics;
using MapReduce.Submit.Client;

namespace MapReduce.Submit.Bench;

/// <summary>
/// Times a job's phases from what the submitter reports: upload, map (submit until the last map
/// finished), reduce with its shuffle (until the last reduce finished), download. Status is a long
/// poll the master answers when a task finishes, so phase edges are exact to one round trip.
/// </summary>
public sealed class PhaseClock
{
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private TimeSpan? _uploaded, _submitted, _mapsDone, _reducesDone, _downloaded;

    public void Record(JobEvent progress)
    {
        var now = _watch.Elapsed;
        switch (progress)
        {
            case Uploaded u when u.What != "code":
                _uploaded = now;
                break;
            case Submitted:
                _submitted = now;
                break;
            case Progressed j:
                if (j.MapsDone == j.MapsTotal) _mapsDone ??= now;
                if (j.ReducesDone == j.ReducesTotal) _reducesDone ??= now;
                break;
            case Downloaded:
                _downloaded = now;
                break;
        }
    }

    /// <summary>The job's own time: from its submission to the last reduce done (upload and download not included).</summary>
    public TimeSpan JobTime => (_reducesDone ?? _mapsDone ?? _submitted ?? TimeSpan.Zero) - (_submitted ?? _uploaded ?? TimeSpan.Zero);

    public string Describe()
    {
        var upload = _uploaded ?? TimeSpan.Zero;
        var submitted = _submitted ?? upload;
        var maps = _mapsDone ?? submitted;
        var reduces = _reducesDone ?? maps;
        var downloaded = _downloaded ?? reduces;
        return $"upload {S(upload)}, submit {S(submitted - upload)}, map {S(maps - submitted)}, shuffle+reduce {S(reduces - maps)}, download {S(downloaded - reduces)}";
    }

    private static string S(TimeSpan t) => $"{t.TotalSeconds:0.00} s";
}
