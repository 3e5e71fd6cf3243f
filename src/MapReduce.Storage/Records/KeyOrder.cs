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
}
