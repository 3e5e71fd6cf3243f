using MapReduce.Actors.Protocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// Which stragglers get a backup attempt (the MapReduce paper's backup tasks, 3.6; Spark's
/// speculation with its quantile and multiplier): pure, so its rules are tested as a table. Only
/// near the end of a phase (every task started, <see cref="BackupTaskSettings.AfterDone"/> of them
/// finished), only a task with a single running attempt, and only on a worker other than the one
/// that runs it. The master journals each backup as a TaskStarted like any attempt; the first
/// success wins and the other attempt is stopped.
/// </summary>
public static class Speculation
{
    /// <summary>A running attempt of the phase: where it runs and since when its runtime counts.</summary>
    public readonly record struct Running<TWorker>(AttemptId Attempt, TWorker Worker, DateTime Since);

    /// <summary>A backup to start: the task, and the worker whose free slot it takes.</summary>
    public readonly record struct Backup<TWorker>(AttemptId Of, TWorker On);

    /// <param name="tasks">How many tasks the phase has.</param>
    /// <param name="finished">How long each finished task of the phase ran (its accepted attempt).</param>
    /// <param name="running">The phase's running attempts (a task with two of them has a backup already).</param>
    /// <param name="freeSlots">Free slots per worker; used up as backups are placed.</param>
    public static List<Backup<TWorker>> Plan<TWorker>(int tasks, IReadOnlyList<TimeSpan> finished, IReadOnlyList<Running<TWorker>> running,
        Dictionary<TWorker, int> freeSlots, BackupTaskSettings settings, DateTime now)
        where TWorker : notnull
    {
        var backups = new List<Backup<TWorker>>();
        if (!settings.Enabled || finished.Count == 0 || running.Count == 0 || freeSlots.Count == 0) return backups;
        var attemptsPerTask = running.GroupBy(r => r.Attempt.Task).ToDictionary(g => g.Key, g => g.Count());
        // Near the end of the phase only: nothing waits for a slot, and most tasks are done.
        // (As Spark's quantile: floor(after-done x tasks) finished, so the last of 3 tasks can be backed up at 0.75.)
        if (finished.Count + attemptsPerTask.Count < tasks || finished.Count < Math.Floor(settings.AfterDone * tasks)) return backups;
        var threshold = Max(settings.MinRuntime, Median(finished) * settings.SlowerThan);
        var stragglers = running
            .Where(r => attemptsPerTask[r.Attempt.Task] == 1 && now - r.Since > threshold)
            .OrderBy(r => r.Since).ThenBy(r => r.Attempt.Task.Index);
        foreach (var straggler in stragglers)
        {
            var elsewhere = freeSlots.Where(w => w.Value > 0 && !EqualityComparer<TWorker>.Default.Equals(w.Key, straggler.Worker)).ToList();
            if (elsewhere.Count == 0) continue;
            var worker = elsewhere.MaxBy(w => w.Value).Key;
            freeSlots[worker]--;
            backups.Add(new Backup<TWorker>(straggler.Attempt, worker));
        }
        return backups;
    }

    /// <summary>The median (the mean of the middle two for an even count).</summary>
    public static TimeSpan Median(IReadOnlyList<TimeSpan> values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
