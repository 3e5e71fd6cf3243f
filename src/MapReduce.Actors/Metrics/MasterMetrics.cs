using System.Diagnostics;
using Akka.Actor;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.UserCode;

namespace MapReduce.Actors.Metrics;

/// <summary>
/// The master's metrics (<see cref="NodeMetrics"/>). Counters move when an event is durable on the
/// active master, never when a master replays the journal, so a take-over counts nothing twice
/// (what the new master counts starts at its own 0, as after any process restart). The job and
/// task gauges are read from the active master's state when scraped.
/// </summary>
public static class MasterMetrics
{
    private sealed record Active(IActorRef Master, Func<MasterState> State);

    private static volatile Active? _active;

    static MasterMetrics() => NodeMetrics.Registry.AddBeforeCollectCallback(SetGauges);

    /// <summary>The master in this process that has recovered and runs; its state is what the gauges show until it stops.</summary>
    public static void Serve(IActorRef master, Func<MasterState> state) => _active = new Active(master, state);

    /// <summary>The master stopped (handed over, or restarting): the new active master, maybe elsewhere, shows the jobs.</summary>
    public static void Stopped(IActorRef master)
    {
        var active = _active;
        if (active is not null && active.Master.Equals(master)) Interlocked.CompareExchange(ref _active, null, active);
    }

    /// <summary>One event the master journaled and that is durable now.</summary>
    public static void Persisted(IMasterEvent e)
    {
        switch (e)
        {
            case JobSubmitted:
                NodeMetrics.JobsSubmitted.Inc();
                break;
            case TaskStarted s when TaskId.TryParse(s.TaskId, out var task):
                NodeMetrics.AttemptsStarted.WithLabels(NodeMetrics.Label(task.Kind)).Inc();
                break;
            case MapSucceeded m:
                NodeMetrics.AttemptsEnded.WithLabels("map", "succeeded").Inc();
                AddBytes("read", m.Counters, TaskCounterNames.MapInputBytes);
                break;
            case ReduceSucceeded r:
                NodeMetrics.AttemptsEnded.WithLabels("reduce", "succeeded").Inc();
                AddBytes("shuffled", r.Counters, TaskCounterNames.ShuffleBytes);
                AddBytes("written", r.Counters, TaskCounterNames.ReduceOutputBytes);
                break;
            case TaskFailed f when TaskId.TryParse(f.TaskId, out var task):
                NodeMetrics.AttemptsEnded.WithLabels(NodeMetrics.Label(task.Kind), f.Superseded ? "superseded" : f.Lost ? "lost" : "failed").Inc();
                break;
            case JobSucceeded:
                NodeMetrics.JobsEnded.WithLabels("succeeded").Inc();
                break;
            case JobFailed:
                NodeMetrics.JobsEnded.WithLabels("failed").Inc();
                break;
            case JobCancelled:
                NodeMetrics.JobsEnded.WithLabels("cancelled").Inc();
                break;
        }
    }

    /// <summary>A batch of events became durable <paramref name="since"/> (a <see cref="Stopwatch"/> timestamp) it was handed to the journal.</summary>
    public static void JournalWritten(long since) => NodeMetrics.JournalWrite.Observe(Stopwatch.GetElapsedTime(since).TotalSeconds);

    private static void AddBytes(string kind, IReadOnlyDictionary<string, long>? counters, string name)
    {
        if (counters?.GetValueOrDefault(name) is long bytes and > 0) NodeMetrics.Bytes.WithLabels(kind).Inc(bytes);
    }

    private static void SetGauges()
    {
        var state = _active?.State();
        var running = state?.Jobs.Values.Where(j => !j.IsFinished).ToList() ?? [];
        NodeMetrics.JobsRunning.WithLabels("map").Set(running.Count(j => j.Phase == TaskKind.Map));
        NodeMetrics.JobsRunning.WithLabels("reduce").Set(running.Count(j => j.Phase == TaskKind.Reduce));
        foreach (var (kind, tasks) in new[] { ("map", running.SelectMany(j => j.Maps)), ("reduce", running.SelectMany(j => j.Reduces)) })
        {
            int pending = 0, started = 0, done = 0;
            foreach (var task in tasks)
            {
                switch (task.Stage)
                {
                    case TaskStage.Pending: pending++; break;
                    case TaskStage.Running: started++; break;
                    default: done++; break;
                }
            }
            NodeMetrics.Tasks.WithLabels(kind, "pending").Set(pending);
            NodeMetrics.Tasks.WithLabels(kind, "running").Set(started);
            NodeMetrics.Tasks.WithLabels(kind, "done").Set(done);
        }
    }
}
