namespace MapReduce.Submit.Bench;

/// <summary>The bytes of every file under a folder, sampled every <c>interval</c> while a job runs, and the most seen.</summary>
public sealed class DiskUsage : IAsyncDisposable
{
    private readonly string _folder;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;

    public DiskUsage(string folder, TimeSpan interval)
    {
        _folder = folder;
        _sampling = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Peak = Math.Max(Peak, BytesUnder(_folder));
                try { await Task.Delay(interval, _stop.Token); } catch (OperationCanceledException) { }
            }
        });
    }

    public long Peak { get; private set; }

    public static long BytesUnder(string folder)
    {
        long total = 0;
        try
        {
            foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }))
            {
                try { total += file.Length; } catch (IOException) { } // a file renamed or deleted meanwhile
            }
        }
        catch (DirectoryNotFoundException) { }
        return total;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        await _sampling;
        Peak = Math.Max(Peak, BytesUnder(_folder));
    }
}
