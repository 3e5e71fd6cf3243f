using System.Globalization;

namespace MapReduce.Actors.Master;

public enum TaskKind { Map, Reduce }

/// <summary>A job's id as users see it: <c>job-20261130-062113-bc240c</c>.</summary>
public readonly record struct JobId(string Value)
{
    public static JobId New(DateTime now) => new($"job-{now:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}");

    public override string ToString() => Value;
}

/// <summary>A task within its job: map <c>m00002</c> or reduce <c>r00003</c> (the index is the map's place in the plan, or the partition).</summary>
public readonly record struct TaskId(TaskKind Kind, int Index)
{
    public static TaskId Map(int index) => new(TaskKind.Map, index);

    public static TaskId Reduce(int partition) => new(TaskKind.Reduce, partition);

    /// <summary>Reads the printed form; the journal and catalog keep task ids as text.</summary>
    public static TaskId Parse(string text) =>
        text.Length == 6 && text[0] is 'm' or 'r' && int.TryParse(text.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? new TaskId(text[0] == 'm' ? TaskKind.Map : TaskKind.Reduce, index)
            : throw new FormatException($"'{text}' is not a task id (m00000 or r00000)");

    /// <summary>How errors and logs name the task: "map m00002".</summary>
    public string Describe() => $"{(Kind == TaskKind.Map ? "map" : "reduce")} {this}";

    public override string ToString() => $"{(Kind == TaskKind.Map ? 'm' : 'r')}{Index:D5}";
}

/// <summary>
/// One try at running a task: unique across jobs, so workers and the master never confuse the
/// first attempt of map 2 in one job with that of another. <see cref="Name"/> (<c>m00002.1</c>) is
/// unique within its job and names the attempt's blobs under the job's folder.
/// </summary>
public readonly record struct AttemptId(JobId Job, TaskId Task, int Number)
{
    public string Name => $"{Task}.{Number}";

    /// <summary>Reads an attempt name of the job (<c>m00002.1</c>), as the journal keeps it.</summary>
    public static AttemptId Parse(JobId job, string name)
    {
        var dot = name.LastIndexOf('.');
        if (dot < 0 || !int.TryParse(name.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            throw new FormatException($"'{name}' is not an attempt name (m00000.1)");
        return new AttemptId(job, TaskId.Parse(name[..dot]), number);
    }

    public override string ToString() => $"{Job}/{Name}";
}
