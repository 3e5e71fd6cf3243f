using MapReduce.Submit.Client;

namespace MapReduce.Submit.Display;

/// <summary>
/// The highest counts seen so far: after a master take-over the new master re-reads the journal
/// and may briefly report fewer tasks done; people should never see progress go backwards.
/// </summary>
public sealed class RisingCounts
{
    private Progressed _max = new(0, 0, 0, 0);

    public Progressed Current => _max;

    /// <summary>Merges <paramref name="e"/> into the highest counts seen; returns them.</summary>
    public Progressed Add(Progressed e) => _max = new(
        Math.Max(_max.MapsDone, e.MapsDone), Math.Max(_max.MapsTotal, e.MapsTotal),
        Math.Max(_max.ReducesDone, e.ReducesDone), Math.Max(_max.ReducesTotal, e.ReducesTotal));
}
