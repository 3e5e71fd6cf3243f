using System.Diagnostics;
using MapReduce.Actors.Protocol;
using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Actors.Metrics;

/// <summary>
/// One worker's metrics (<see cref="NodeMetrics"/>): its slots, busy and total, and how long each
/// attempt it ran took. Used by the worker actor alone, on its thread; the gauges are shared by the
/// workers of a process (they add up).
/// </summary>
public sealed class WorkerMetrics
{
    private readonly int _slots;
    private readonly Dictionary<AttemptId, long> _started = new();

    public WorkerMetrics(int slots)
    {
        _slots = slots;
        NodeMetrics.WorkerSlots.WithLabels("total").Inc(slots);
    }

    public void Started(AttemptId attempt)
    {
        _started[attempt] = Stopwatch.GetTimestamp();
        NodeMetrics.WorkerSlots.WithLabels("busy").Inc();
    }

    /// <summary>The attempt returned <paramref name="result"/>, the message for the master.</summary>
    public void Ended(AttemptId attempt, object result)
    {
        if (!_started.Remove(attempt, out var since)) return;
        NodeMetrics.WorkerSlots.WithLabels("busy").Dec();
        var outcome = result switch
        {
            MapTaskSucceeded or ReduceTaskSucceeded => "succeeded",
            TaskAttemptFailed { Kind: FailureKind.Stopped } => "stopped",
            _ => "failed",
        };
        NodeMetrics.TaskDuration.WithLabels(NodeMetrics.Label(attempt.Task.Kind), outcome).Observe(Stopwatch.GetElapsedTime(since).TotalSeconds);
    }

    /// <summary>The worker stopped: its slots, and the attempts it still ran, are no longer this node's.</summary>
    public void Stopped()
    {
        NodeMetrics.WorkerSlots.WithLabels("busy").Dec(_started.Count);
        NodeMetrics.WorkerSlots.WithLabels("total").Dec(_slots);
        _started.Clear();
    }
}
