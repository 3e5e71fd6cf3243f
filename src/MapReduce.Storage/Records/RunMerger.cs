namespace MapReduce.Storage.Records;

/// <summary>
/// Streaming k-way merge of sorted runs into key groups: holds one pair per run in memory, never a
/// whole partition. Each group's values are handed out lazily and must be consumed (or skipped)
/// before the next group is taken; that is what <see cref="Groups"/> does for callers.
/// </summary>
public static class RunMerger
{
    public static IEnumerable<KeyValuePair<TKey, TValue>> Merge<TKey, TValue>(IReadOnlyList<IEnumerable<KeyValuePair<TKey, TValue>>> runs)
    {
        var order = KeyOrder.For<TKey>();
        var heap = new PriorityQueue<IEnumerator<KeyValuePair<TKey, TValue>>, (TKey Key, int Run)>(
            Comparer<(TKey Key, int Run)>.Create((a, b) =>
            {
                var c = order.Compare(a.Key, b.Key);
                return c != 0 ? c : a.Run.CompareTo(b.Run);
            }));
        var cursors = new List<IEnumerator<KeyValuePair<TKey, TValue>>>();
        try
        {
            for (var i = 0; i < runs.Count; i++)
            {
                var cursor = runs[i].GetEnumerator();
                cursors.Add(cursor);
                if (cursor.MoveNext()) heap.Enqueue(cursor, (cursor.Current.Key, i));
            }
            while (heap.TryDequeue(out var cursor, out var priority))
            {
                yield return cursor.Current;
                if (cursor.MoveNext()) heap.Enqueue(cursor, (cursor.Current.Key, priority.Run));
            }
        }
        finally
        {
            foreach (var cursor in cursors) cursor.Dispose();
        }
    }

    /// <summary>Groups consecutive equal keys of a key-ordered sequence: (key, values of that key).</summary>
    public static IEnumerable<(TKey Key, IEnumerable<TValue> Values)> Groups<TKey, TValue>(IEnumerable<KeyValuePair<TKey, TValue>> sorted)
    {
        var equal = KeyOrder.EqualityFor<TKey>();
        using var cursor = sorted.GetEnumerator();
        if (!cursor.MoveNext()) yield break;
        var more = true;
        while (more)
        {
            var key = cursor.Current.Key;
            var group = new Group<TKey, TValue>(cursor, key, equal);
            yield return (key, group.Values());
            // Skip whatever the caller did not read of this group.
            while (!group.Finished) group.Advance();
            more = group.HasNext;
        }
    }

    private sealed class Group<TKey, TValue>(IEnumerator<KeyValuePair<TKey, TValue>> cursor, TKey key, IEqualityComparer<TKey> equal)
    {
        private bool _currentUnread = true;
        public bool Finished { get; private set; }
        public bool HasNext { get; private set; }

        public IEnumerable<TValue> Values()
        {
            while (!Finished)
            {
                if (_currentUnread)
                {
                    _currentUnread = false;
                    yield return cursor.Current.Value;
                }
                else
                {
                    Advance();
                }
            }
        }

        public void Advance()
        {
            if (_currentUnread) { _currentUnread = false; return; }
            if (!cursor.MoveNext()) { Finished = true; HasNext = false; return; }
            if (!equal.Equals(cursor.Current.Key, key)) { Finished = true; HasNext = true; return; }
            _currentUnread = true;
        }
    }
}
