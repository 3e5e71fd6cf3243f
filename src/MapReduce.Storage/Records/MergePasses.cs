namespace MapReduce.Storage.Records;

/// <summary>
/// Merges a reduce's runs down to at most <c>factor</c> (mapreduce.shuffle-merge-factor, Hadoop's
/// io.sort.factor) before its final merge, in passes: each pass merges groups of consecutive runs
/// into one run in their place, so values keep the order of the runs and the final merge's output
/// is byte-identical to a single merge of them all. A pass merges only as many runs as it takes to
/// reach <c>factor</c> (the rest wait for the final merge), so fewer bytes are written twice.
/// </summary>
public static class MergePasses
{
    /// <summary>The smallest factor: a merge of fewer than two runs would never end.</summary>
    public const int MinFactor = 2;

    /// <summary>The groups (first run, count) of consecutive runs one pass merges; none when <paramref name="runs"/> ≤ <paramref name="factor"/>.</summary>
    public static IReadOnlyList<(int Start, int Count)> Next(int runs, int factor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, MinFactor);
        var groups = new List<(int, int)>();
        var start = 0;
        var remaining = runs; // runs after this pass so far
        while (remaining > factor)
        {
            // A group of n runs leaves n - 1 fewer; none larger than needed to reach the factor.
            var size = Math.Min(Math.Min(factor, remaining - factor + 1), runs - start);
            if (size < MinFactor) break;
            groups.Add((start, size));
            start += size;
            remaining -= size - 1;
        }
        return groups;
    }

    /// <summary>
    /// Merges <paramref name="runs"/> in passes until at most <paramref name="factor"/> remain, and
    /// returns them in order. <paramref name="mergeGroup"/> merges one group (the pass number, its
    /// runs) into a new run; a run it was given is not used again.
    /// </summary>
    public static async Task<IReadOnlyList<TRun>> ReduceAsync<TRun>(IReadOnlyList<TRun> runs, int factor, Func<int, IReadOnlyList<TRun>, Task<TRun>> mergeGroup)
    {
        var current = runs;
        for (var pass = 0; ; pass++)
        {
            var groups = Next(current.Count, factor);
            if (groups.Count == 0) return current;
            var next = new List<TRun>(current.Count);
            var at = 0;
            foreach (var (start, count) in groups)
            {
                for (; at < start; at++) next.Add(current[at]);
                next.Add(await mergeGroup(pass, [.. current.Skip(start).Take(count)]).ConfigureAwait(false));
                at = start + count;
            }
            for (; at < current.Count; at++) next.Add(current[at]);
            current = next;
        }
    }
}
