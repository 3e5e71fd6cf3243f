using MapReduce.Submit.Client;

namespace MapReduce.Submit;

/// <summary>Prints what the job runner reports, one line per step, progress at most twice a second.</summary>
public sealed class ConsoleProgress(TextWriter output)
{
    private DateTime _lastProgress = DateTime.MinValue;

    public void Report(JobEvent e)
    {
        lock (output)
        {
            switch (e)
            {
                case Uploaded u:
                    output.WriteLine(u.What == "code"
                        ? $"uploaded code as {u.Id} ({u.Took.TotalSeconds:0.0} s)"
                        : $"uploaded {u.Files} files, {Megabytes(u.Bytes)} in {u.Chunks} chunks as {u.Id} ({u.Took.TotalSeconds:0.0} s)");
                    break;
                case UploadProgress p when Due():
                    output.WriteLine($"uploading: {Megabytes(p.BytesDone)} of {Megabytes(p.BytesTotal)}");
                    break;
                case Submitted s:
                    output.WriteLine($"submitted job {s.JobId}: {s.MapTasks} map tasks, {s.ReduceTasks} reduce tasks");
                    break;
                case Progressed j when Due() || (j.ReducesDone == j.ReducesTotal && j.MapsDone == j.MapsTotal):
                    output.WriteLine($"  map {j.MapsDone}/{j.MapsTotal}  reduce {j.ReducesDone}/{j.ReducesTotal}");
                    break;
                case Downloaded d:
                    output.WriteLine($"downloaded {d.Parts} parts, {Megabytes(d.Bytes)} into {d.Folder} ({d.Took.TotalSeconds:0.0} s)");
                    break;
            }
        }
    }

    private bool Due()
    {
        var now = DateTime.UtcNow;
        if (now - _lastProgress < TimeSpan.FromMilliseconds(500)) return false;
        _lastProgress = now;
        return true;
    }

    public static string Megabytes(long bytes) => $"{bytes / 1_000_000.0:0.0} MB";
}
