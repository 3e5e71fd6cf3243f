using MapReduce.Actors.Protocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// Skipping bad records (the MapReduce paper's 4.6), for a job submitted with --skip-bad-records:
/// pure decisions, each a row of BadRecordsTests. A map task whose attempt failed runs its next
/// attempts line by line (<see cref="RunsByLine"/>), so a failure names its line: Map threw on it
/// (the worker reports the line), or the script exited the process while mapping it (the worker's
/// last word, <c>WorkerExit.Line</c>). The first failure on a line makes it the task's suspect; a
/// second on the same line (<see cref="Judge"/>) skips it: the task's later attempts do not map
/// it, and the task's count of failures starts over. A job may skip at most max-skipped-records
/// lines; one more fails it (<see cref="OverLimit"/>).
/// </summary>
public static class BadRecords
{
    public enum Verdict
    {
        /// <summary>Nothing to do with skipping: the failure counts as it would without it.</summary>
        NotSkipping,
        /// <summary>The line is the task's suspect now; the failure counts as usual.</summary>
        Suspect,
        /// <summary>The line failed before: it is skipped, and this failure does not count.</summary>
        Skip,
    }

    /// <summary>How the error of the attempt whose failure skipped a line begins (status lists those attempts' lines).</summary>
    public const string SkippedPrefix = "skipped bad record: ";

    /// <param name="skips">The job skips bad records.</param>
    /// <param name="suspect">The line the task's last attempt that named one failed on.</param>
    /// <param name="failedOn">The line this attempt failed on, when it names one.</param>
    public static Verdict Judge(bool skips, InputLine? suspect, InputLine? failedOn) =>
        !skips || failedOn is null ? Verdict.NotSkipping
        : failedOn == suspect ? Verdict.Skip
        : Verdict.Suspect;

    /// <summary>
    /// Whether the task's next attempt maps line by line: a map task of a job that skips bad
    /// records, once it has failed (or has a line to skip). Its first attempt maps whole chunks, as
    /// without skipping: a job whose Map never fails runs as fast.
    /// </summary>
    public static bool RunsByLine(JobState job, TaskState task) =>
        job.SkipBadRecords && task.Input is not null
        && (task.LastError is not null || task.Suspect is not null || SkippedOf(job, task).Length > 0);

    /// <summary>The lines the task's attempts skip.</summary>
    public static InputLine[] SkippedOf(JobState job, TaskState task)
    {
        var id = task.Id.ToString();
        return [.. job.SkippedRecords.Where(s => s.TaskId == id).Select(s => s.Line)];
    }

    /// <summary>The error the skipping attempt's row keeps: which line, then why.</summary>
    public static string SkippedError(InputLine line, string error) => $"{SkippedPrefix}{line.Describe()} ({error})";

    /// <summary>Why the job fails when it has skipped more lines than it may, or null.</summary>
    public static string? OverLimit(JobState job, int maxSkipped) =>
        job.SkippedRecords.Count <= maxSkipped ? null
        : $"Map failed on more than {maxSkipped} lines (mapreduce.max-skipped-records = {maxSkipped}); the last: {job.SkippedRecords[^1].Line.Describe()}: {job.SkippedRecords[^1].Error}";
}
