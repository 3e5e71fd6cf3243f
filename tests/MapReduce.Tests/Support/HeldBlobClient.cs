using MapReduce.Actors.BlobClients;

namespace MapReduce.Tests.Support;

/// <summary>
/// A real blob client whose reads of a held key wait until the test releases it (and say when they
/// were asked): the point at which a test looks at what is going on while a read is under way.
/// </summary>
public sealed class HeldBlobClient(IBlobClient inner) : ForwardingBlobClient(inner)
{
    private readonly Dictionary<string, (TaskCompletionSource Asked, TaskCompletionSource Release)> _held = new();

    /// <summary>Holds reads of <paramref name="key"/>; call the action returned to let them go on.</summary>
    public Action Hold(string key)
    {
        var gate = (Asked: new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
            Release: new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_held) _held[key] = gate;
        return () => gate.Release.TrySetResult();
    }

    /// <summary>Completes once a read of the held <paramref name="key"/> has begun.</summary>
    public Task Asked(string key)
    {
        lock (_held) return _held[key].Asked.Task;
    }

    public override async Task<byte[]> GetBytesAsync(string key, CancellationToken ct = default)
    {
        (TaskCompletionSource Asked, TaskCompletionSource Release) gate;
        bool held;
        lock (_held) held = _held.TryGetValue(key, out gate);
        if (held)
        {
            gate.Asked.TrySetResult();
            await gate.Release.Task.WaitAsync(ct);
        }
        return await base.GetBytesAsync(key, ct);
    }
}
