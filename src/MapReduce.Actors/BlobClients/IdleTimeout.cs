namespace MapReduce.Actors.BlobClients;

/// <summary>
/// Cancels a transfer that made no progress for <c>limit</c>, however long it runs in total: a 1 GB
/// blob may take minutes, a stalled connection should not hang a task forever.
/// </summary>
internal sealed class IdleTimeout : IDisposable
{
    private readonly TimeSpan _limit;
    private readonly CancellationToken _caller;
    private readonly CancellationTokenSource _source;

    public IdleTimeout(TimeSpan limit, CancellationToken caller)
    {
        _limit = limit;
        _caller = caller;
        _source = CancellationTokenSource.CreateLinkedTokenSource(caller);
        _source.CancelAfter(limit);
    }

    public TimeSpan Limit => _limit;

    public CancellationToken Token => _source.Token;

    /// <summary>True when the transfer was cancelled for being idle rather than by the caller.</summary>
    public bool Expired => _source.IsCancellationRequested && !_caller.IsCancellationRequested;

    /// <summary>Records progress: the clock starts again.</summary>
    public void Touch()
    {
        // An upload may still be writing its last bytes after the response came and this was disposed.
        try { _source.CancelAfter(_limit); }
        catch (ObjectDisposedException) { }
    }

    public void Dispose() => _source.Dispose();
}
