namespace MapReduce.Actors.Master;

/// <summary>
/// The partitions a map attempt wrote into, as one bit each: a reduce task's inputs are found by
/// testing one bit per map, whatever the number of reducers. Immutable. The journal keeps the
/// partitions as a list of numbers (<see cref="MapSucceeded.NonEmptyPartitions"/>).
/// </summary>
public sealed class PartitionSet
{
    public static readonly PartitionSet Empty = new([]);

    private readonly ulong[] _bits;

    private PartitionSet(ulong[] bits) => _bits = bits;

    /// <summary>The set of <paramref name="partitions"/> (each at least 0).</summary>
    public static PartitionSet Of(IReadOnlyCollection<int>? partitions)
    {
        if (partitions is null || partitions.Count == 0) return Empty;
        var bits = new ulong[partitions.Max() / 64 + 1];
        foreach (var p in partitions) bits[p >> 6] |= 1UL << (p & 63);
        return new PartitionSet(bits);
    }

    public bool Contains(int partition) => partition >= 0 && (partition >> 6) < _bits.Length && (_bits[partition >> 6] & (1UL << (partition & 63))) != 0;

    /// <summary>The partitions in increasing order.</summary>
    public int[] ToArray()
    {
        var list = new List<int>();
        for (var word = 0; word < _bits.Length; word++)
            for (var bit = 0; bit < 64; bit++)
                if ((_bits[word] & (1UL << bit)) != 0) list.Add(word * 64 + bit);
        return [.. list];
    }
}
