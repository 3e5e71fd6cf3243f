using static MapReduce.Actors.Protocol.ApiModels;

namespace MapReduce.Submit.Client;

/// <summary>
/// Turns what a running job waits for, as each progress answer lists it, into the moments it starts
/// and stops waiting: one <see cref="WaitStarted"/> when something appears, one <see cref="WaitEnded"/>
/// when it is gone, nothing while it stays (the answers repeat it every second).
/// </summary>
public sealed class WaitChanges(TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Dictionary<string, Waiting> _known = new(StringComparer.Ordinal);

    /// <summary>The changes since the last answer; <paramref name="waits"/> is what the job waits for now (null: nothing).</summary>
    public IReadOnlyList<JobEvent> Update(IReadOnlyList<Waiting>? waits)
    {
        var changes = new List<JobEvent>();
        var now = waits ?? [];
        foreach (var w in now)
        {
            if (!_known.TryAdd(w.What, w)) continue;
            changes.Add(new WaitStarted(w.What, w.Reason, w.Since));
        }
        foreach (var gone in _known.Values.Where(k => now.All(w => w.What != k.What)).ToList())
        {
            _known.Remove(gone.What);
            // The master's clock said since when; this machine's says until when (never less than nothing).
            var after = _time.GetUtcNow().UtcDateTime - DateTime.SpecifyKind(gone.Since, DateTimeKind.Utc);
            changes.Add(new WaitEnded(gone.What, after < TimeSpan.Zero ? TimeSpan.Zero : after));
        }
        return changes;
    }
}
