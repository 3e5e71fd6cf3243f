using MapReduce.Actors.Protocol;
using Prometheus;

namespace MapReduce.Actors.Metrics;

/// <summary>
/// Every metric a node exports at /metrics (docs/operations.md lists them), in one registry per
/// process: the node's own metrics and the process's (CPU, memory, GC), nothing else (the
/// prometheus-net default registry would also publish every .NET Meter and EventCounter).
/// Names follow Prometheus' conventions: counters end in _total, durations are in seconds.
/// A process that runs several roles (local mode in one process) exports them together.
/// </summary>
public static class NodeMetrics
{
    public static readonly CollectorRegistry Registry = NewRegistry();

    private static readonly MetricFactory Factory = Prometheus.Metrics.WithCustomRegistry(Registry);

    // ---- the active master, from the events it journals ----

    public static readonly Counter JobsSubmitted = Factory.CreateCounter("mapreduce_jobs_submitted_total",
        "Jobs accepted by the active master.");

    public static readonly Counter JobsEnded = Factory.CreateCounter("mapreduce_jobs_ended_total",
        "Jobs that ended, by final state (succeeded, failed, cancelled).", "state");

    public static readonly Gauge JobsRunning = Factory.CreateGauge("mapreduce_jobs_running",
        "Running jobs the active master holds, by phase (map: some map task is not done; reduce: every map is done).", "phase");

    public static readonly Gauge Tasks = Factory.CreateGauge("mapreduce_tasks",
        "Tasks of the running jobs, by kind (map, reduce) and state (pending, running, done).", "kind", "state");

    public static readonly Counter AttemptsStarted = Factory.CreateCounter("mapreduce_attempts_started_total",
        "Task attempts handed to workers, by kind (map, reduce).", "kind");

    public static readonly Counter AttemptsEnded = Factory.CreateCounter("mapreduce_attempts_ended_total",
        "Task attempts whose end the master journaled, by kind and outcome (succeeded: accepted as its task's result; failed: failed by its code or storage; lost: its worker left or went silent, it timed out or never arrived; superseded: a backup attempt of its task, or the task's first, finished first and it was stopped).",
        "kind", "outcome");

    public static readonly Counter Bytes = Factory.CreateCounter("mapreduce_bytes_total",
        "Bytes of accepted attempts, by kind (read: map input; shuffled: map output the reduces read; written: the jobs' output parts).", "kind");

    public static readonly Histogram JournalWrite = Factory.CreateHistogram("mapreduce_journal_write_seconds",
        "Time from handing a batch of events to the journal until they are durable.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });

    // ---- workers ----

    public static readonly Gauge WorkerSlots = Factory.CreateGauge("mapreduce_worker_slots",
        "This node's worker slots, by state (busy: running an attempt; total).", "state");

    public static readonly Histogram TaskDuration = Factory.CreateHistogram("mapreduce_task_duration_seconds",
        "How long the attempts this node's worker ran took, from receiving the task to its result, by kind and outcome (succeeded, failed, stopped).",
        new HistogramConfiguration { LabelNames = ["kind", "outcome"], Buckets = Histogram.ExponentialBuckets(0.05, 2, 16) });

    // ---- the kvstore ----

    public static readonly Histogram KvStoreRequest = Factory.CreateHistogram("mapreduce_kvstore_request_seconds",
        "Requests to the kvstore's data channel (blob bytes over HTTP), until the last byte is sent, by method and status code.",
        new HistogramConfiguration { LabelNames = ["method", "status"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });

    /// <summary>Each series that is known in advance starts at 0, so a query sees it before its first event (and increase() counts that event).</summary>
    static NodeMetrics()
    {
        foreach (var state in new[] { "succeeded", "failed", "cancelled" }) JobsEnded.WithLabels(state);
        foreach (var phase in Kinds) JobsRunning.WithLabels(phase);
        foreach (var kind in Kinds)
        {
            AttemptsStarted.WithLabels(kind);
            foreach (var outcome in new[] { "succeeded", "failed", "lost", "superseded" }) AttemptsEnded.WithLabels(kind, outcome);
            foreach (var outcome in new[] { "succeeded", "failed", "stopped" }) TaskDuration.WithLabels(kind, outcome);
            foreach (var state in new[] { "pending", "running", "done" }) Tasks.WithLabels(kind, state);
        }
        foreach (var kind in new[] { "read", "shuffled", "written" }) Bytes.WithLabels(kind);
        foreach (var state in new[] { "busy", "total" }) WorkerSlots.WithLabels(state);
        foreach (var method in new[] { "GET", "PUT" }) KvStoreRequest.WithLabels(method, "200");
    }

    private static readonly string[] Kinds = ["map", "reduce"];

    /// <summary>A task kind as a label value.</summary>
    public static string Label(TaskKind kind) => kind == TaskKind.Map ? "map" : "reduce";

    private static CollectorRegistry NewRegistry()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        DotNetStats.Register(registry);
        return registry;
    }
}
