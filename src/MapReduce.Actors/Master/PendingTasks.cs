namespace MapReduce.Actors.Master;

/// <summary>
/// The tasks of one phase of a job (its maps, or its reduces) that wait for a slot, taken lowest
/// index first in O(1) amortized, as Spark's TaskSetManager keeps pending tasks with lazy removal:
/// a cursor over the tasks never taken, and a heap of the tasks handed back (a failed or lost
/// attempt; after a take-over, a task no worker claimed). Entries are checked only when taken:
/// one that is no longer runnable (done, running) is dropped then.
/// </summary>
public sealed class PendingTasks(int count)
{
    private int _cursor;
    private readonly PriorityQueue<int, int> _returned = new();
    /// <summary>Which tasks are in <see cref="_returned"/>: each at most once.</summary>
    private readonly bool[] _queued = new bool[count];

    /// <summary>Hands a task back: it is taken again before every task of a higher index.</summary>
    public void Return(int index)
    {
        if (index < 0 || index >= count || _queued[index]) return;
        _queued[index] = true;
        _returned.Enqueue(index, index);
    }

    /// <summary>The lowest-indexed pending task that <paramref name="runnable"/> accepts, or null when none is.</summary>
    public int? Take(Func<int, bool> runnable)
    {
        while (_returned.TryPeek(out var stale, out _) && !runnable(stale)) Dequeue();
        while (_cursor < count && !runnable(_cursor)) _cursor++;
        var hasReturned = _returned.TryPeek(out var returned, out _);
        if (hasReturned && (_cursor >= count || returned <= _cursor))
        {
            Dequeue();
            if (returned == _cursor) _cursor++;
            return returned;
        }
        return _cursor < count ? _cursor++ : null;
    }

    private void Dequeue() => _queued[_returned.Dequeue()] = false;
}
