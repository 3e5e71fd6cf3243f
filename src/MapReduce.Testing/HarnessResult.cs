namespace MapReduce.Testing;

/// <summary>
/// What a job run by <see cref="JobHarness"/> produced: the text of each output part (part-00000
/// first), as the cluster writes it, the job's counters summed over its tasks, as `status` shows
/// them, and what its code printed.
/// </summary>
public sealed record HarnessResult(IReadOnlyList<string> Parts, IReadOnlyDictionary<string, long> Counters, string Log)
{
    /// <summary>The lines of part <paramref name="part"/>.</summary>
    public IReadOnlyList<string> Lines(int part) => SplitLines(Parts[part]);

    /// <summary>Every part's lines, part-00000's first.</summary>
    public IReadOnlyList<string> AllLines => [.. Parts.SelectMany(SplitLines)];

    /// <summary>A counter's value; 0 when the job never counted it.</summary>
    public long Counter(string name) => Counters.GetValueOrDefault(name);

    private static string[] SplitLines(string text) => text.Length == 0 ? [] : text.TrimEnd('\n').Split('\n');
}
