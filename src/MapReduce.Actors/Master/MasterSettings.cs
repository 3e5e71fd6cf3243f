using Akka.Configuration;
using MapReduce.Actors.Hosting;

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
        var settings = new MasterSettings(
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
            AnnounceInterval = mapreduce.GetTimeSpan("announce-interval"),
            CancelGrace = mapreduce.GetTimeSpan("cancel-grace"),
            KvStoreBackoff = ExponentialBackoff.From(mapreduce, "kvstore.backoff"),
            RestartBackoff = ExponentialBackoff.From(mapreduce, "master.restart-backoff"),
            BackupTasks = BackupTaskSettings.From(master.GetConfig("backup-tasks") ?? throw new ConfigurationException("mapreduce.master.backup-tasks is missing from the configuration")),
            SkipBadRecords = mapreduce.GetBoolean("skip-bad-records"),
            MaxSkippedRecords = mapreduce.GetInt("max-skipped-records"),
            JournalBatchDelay = master.GetTimeSpan("journal-batch-delay"),
            StatusInterval = master.GetTimeSpan("status-interval"),
        };
        if (settings.MaxSkippedRecords < 0) throw new ConfigurationException($"mapreduce.max-skipped-records must be 0 or more, not {settings.MaxSkippedRecords}");
        return settings.TimingProblem() is { } problem ? throw new ConfigurationException(problem) : settings;
    }

    /// <summary>How long a worker gives user code to stop before it exits (mapreduce.cancel-grace): by then every attempt of an ended job has stopped.</summary>
    public TimeSpan CancelGrace { get; init; }

    /// <summary>
    /// A held status question (a long poll) is answered with a change of counts no sooner than this
    /// after it arrived (mapreduce.master.status-interval); a job's end is answered at once. Zero:
    /// every change at once, which makes a following client poll once per finished task.
    /// </summary>
    public TimeSpan StatusInterval { get; init; }

    /// <summary>How often a worker announces itself (mapreduce.announce-interval): the master's worker-timeout, lost-after and recovery-grace count on it.</summary>
    public TimeSpan AnnounceInterval { get; init; }

    /// <summary>
    /// Why these timings contradict each other (one line naming the keys), or null. A worker-timeout
    /// under two announcements drops workers that are on time; a lost-after under two declares
    /// attempts lost that a worker is about to list; a recovery-grace under one restarts tasks that
    /// a worker still runs but has not announced yet.
    /// </summary>
    public string? TimingProblem()
    {
        var announce = $"mapreduce.announce-interval ({Durations.Format(AnnounceInterval)})";
        if (AnnounceInterval <= TimeSpan.Zero) return $"{announce} must be positive";
        if (WorkerTimeout < 2 * AnnounceInterval)
            return $"mapreduce.worker-timeout ({Durations.Format(WorkerTimeout)}) must be at least twice {announce}: workers that announce on time would be dropped";
        if (LostAfter < 2 * AnnounceInterval)
            return $"mapreduce.master.lost-after ({Durations.Format(LostAfter)}) must be at least twice {announce}: attempts on their way would be declared lost";
        if (RecoveryGrace < AnnounceInterval)
            return $"mapreduce.master.recovery-grace ({Durations.Format(RecoveryGrace)}) must be at least {announce}: after a take-over, tasks still running would start again";
        return null;
    }

    /// <summary>When a straggler gets a backup attempt (mapreduce.master.backup-tasks).</summary>
    public BackupTaskSettings BackupTasks { get; init; } = BackupTaskSettings.Off;

    /// <summary>Whether a job submitted without saying skips bad records (mapreduce.skip-bad-records; see <see cref="BadRecords"/>).</summary>
    public bool SkipBadRecords { get; init; }

    /// <summary>The lines a job that skips bad records may skip before it fails (mapreduce.max-skipped-records).</summary>
    public int MaxSkippedRecords { get; init; }

    /// <summary>How long the master holds events before it journals them, so that the results of several tasks go in one write (mapreduce.master.journal-batch-delay; zero: at once).</summary>
    public TimeSpan JournalBatchDelay { get; init; }

    /// <summary>The delays between tries of an ended job's clean-up while the kvstore is away (mapreduce.kvstore.backoff).</summary>
    public required ExponentialBackoff KvStoreBackoff { get; init; }

    /// <summary>The delays before the master actor is started again after it stopped on a failure, e.g. of its journal (mapreduce.master.restart-backoff).</summary>
    public required ExponentialBackoff RestartBackoff { get; init; }

    private static ConfigurationException Missing(string key) => new($"mapreduce.{key} is missing from the configuration");
}
