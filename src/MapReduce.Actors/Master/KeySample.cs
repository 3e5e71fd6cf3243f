using MapReduce.Actors.Protocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// Which of a job's input chunks a worker may read to sample its keys (for a total-order sort's
/// partition boundaries): up to a number of chunks spread evenly over the job's map inputs, in
/// input order, always the first. Pure; answered from the master's state, never journaled.
/// </summary>
public static class KeySample
{
    /// <returns>None for an unknown or ended job, or a <paramref name="max"/> below 1.</returns>
    public static MapChunk[] Of(JobState? job, int max)
    {
        if (job is null || job.IsFinished || max < 1) return [];
        var total = job.Maps.Sum(m => 1 + (m.Input?.More?.Length ?? 0));
        var take = Math.Min(max, total);
        var sample = new MapChunk[take];
        // The i-th of them is chunk floor(i * total / take) of the inputs laid end to end.
        var (next, first) = (0, 0);
        foreach (var map in job.Maps)
        {
            var chunks = map.Input!.Chunks();
            while (next < take && (int)((long)next * total / take) < first + chunks.Length)
            {
                sample[next] = chunks[(int)((long)next * total / take) - first];
                next++;
            }
            first += chunks.Length;
            if (next == take) break;
        }
        return sample;
    }
}
