using Akka.Configuration;

namespace MapReduce.Actors.Master;

public enum SchedulingPolicy
{
    /// <summary>Each free slot goes to the running job with the fewest tasks running (ties: the oldest), as Spark's FAIR pools and Hadoop's Fair Scheduler share a cluster.</summary>
    Fair,
    /// <summary>The oldest job takes every slot it can use; later jobs wait.</summary>
    Fifo,
}

/// <summary>
/// The master's timings and limits, read once from the <c>mapreduce</c> section of the HOCON
/// (hocon/mapreduce.hocon holds every default; nothing is defaulted here).
/// </summary>
public sealed record MasterSettings(
    int MaxTaskAttempts,
    TimeSpan TaskTimeout,
    TimeSpan WorkerTimeout,
    long SplitSize,
    int MaxMapTasks,
    int MaxReducers,
    SchedulingPolicy Scheduling,
    int SnapshotAfter,
    TimeSpan TickInterval,
    TimeSpan RecoveryGrace,
    TimeSpan LostAfter,
    TimeSpan LongPoll,
    TimeSpan KvStoreTimeout)
{
    public static MasterSettings From(Config mapreduce)
    {
        var master = mapreduce.GetConfig("master") ?? throw new ConfigurationException("mapreduce.master is missing from the configuration");
        return new MasterSettings(
            mapreduce.GetInt("max-task-attempts"),
            mapreduce.GetTimeSpan("task-timeout"),
            mapreduce.GetTimeSpan("worker-timeout"),
            mapreduce.GetByteSize("split-size") ?? throw Missing("split-size"),
            master.GetInt("max-map-tasks"),
            master.GetInt("max-reducers"),
            master.GetString("scheduling") switch
            {
                "fair" => SchedulingPolicy.Fair,
                "fifo" => SchedulingPolicy.Fifo,
                var other => throw new ConfigurationException($"mapreduce.master.scheduling must be fair or fifo, not '{other}'"),
            },
            master.GetInt("snapshot-after"),
            master.GetTimeSpan("tick-interval"),
            master.GetTimeSpan("recovery-grace"),
            master.GetTimeSpan("lost-after"),
            master.GetTimeSpan("long-poll"),
            master.GetTimeSpan("kvstore-timeout"))
        {
            CancelGrace = mapreduce.GetTimeSpan("cancel-grace"),
            BackupTasks = BackupTaskSettings.From(master.GetConfig("backup-tasks") ?? throw new ConfigurationException("mapreduce.master.backup-tasks is missing from the configuration")),
        };
    }

    /// <summary>How long a worker gives user code to stop before it exits (mapreduce.cancel-grace): by then every attempt of an ended job has stopped.</summary>
    public TimeSpan CancelGrace { get; init; }

    /// <summary>When a straggler gets a backup attempt (mapreduce.master.backup-tasks).</summary>
    public BackupTaskSettings BackupTasks { get; init; } = BackupTaskSettings.Off;

    private static ConfigurationException Missing(string key) => new($"mapreduce.{key} is missing from the configuration");
}
