namespace MapReduce.Storage.Records;

/// <summary>
/// The one order keys are sorted and merged in: ordinal for strings (culture-independent, the same
/// on every node), the type's default order otherwise.
/// </summary>
public static class KeyOrder
{
    public static IComparer<TKey> For<TKey>() =>
        typeof(TKey) == typeof(string) ? (IComparer<TKey>)(object)StringComparer.Ordinal : Comparer<TKey>.Default;

    public static IEqualityComparer<TKey> EqualityFor<TKey>() =>
        typeof(TKey) == typeof(string) ? (IEqualityComparer<TKey>)(object)StringComparer.Ordinal : EqualityComparer<TKey>.Default;

    /// <summary>Sorts pairs by key; equal keys keep their order (List.Sort alone is unstable).</summary>
    public static void SortStable<TKey, TValue>(List<KeyValuePair<TKey, TValue>> pairs)
    {
        var order = For<TKey>();
        var indexed = new (KeyValuePair<TKey, TValue> Pair, int Index)[pairs.Count];
        for (var i = 0; i < pairs.Count; i++) indexed[i] = (pairs[i], i);
        Array.Sort(indexed, (a, b) =>
        {
            var c = order.Compare(a.Pair.Key, b.Pair.Key);
            return c != 0 ? c : a.Index.CompareTo(b.Index);
        });
        for (var i = 0; i < indexed.Length; i++) pairs[i] = indexed[i].Pair;
    }
}
