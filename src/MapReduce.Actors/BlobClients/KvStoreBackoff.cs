namespace MapReduce.Actors.BlobClients;

/// <summary>
/// How long to wait before asking an unreachable kvstore again: 1 s, 2 s, 4 s, … capped at 30 s, so
/// a kvstore away for minutes (a machine rebooting) is neither hammered nor found late.
/// </summary>
public static class KvStoreBackoff
{
    public static readonly TimeSpan First = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(30);

    /// <summary>The delay after the <paramref name="failures"/>-th failure in a row (1-based).</summary>
    public static TimeSpan Delay(int failures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        // 2^5 s already exceeds the cap; no need to compute (and overflow) larger powers.
        return failures > 5 ? Max : TimeSpan.FromSeconds(Math.Min(Max.TotalSeconds, First.TotalSeconds * (1 << (failures - 1))));
    }
}
