using System.Globalization;

namespace MapReduce.Actors.Protocol;

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
        TryParse(text, out var id) ? id : throw new FormatException($"'{text}' is not a task id (m00000 or r00000)");

    public static bool TryParse(string? text, out TaskId id)
    {
        id = default;
        if (text is not { Length: 6 } || text[0] is not ('m' or 'r')
            || !int.TryParse(text.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var index)) return false;
        id = new TaskId(text[0] == 'm' ? TaskKind.Map : TaskKind.Reduce, index);
        return true;
    }

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
    public static AttemptId Parse(JobId job, string name) =>
        TryParse(job, name, out var attempt) ? attempt : throw new FormatException($"'{name}' is not an attempt name (m00000.1)");

    public static bool TryParse(JobId job, string? name, out AttemptId attempt)
    {
        attempt = default;
        var dot = name?.LastIndexOf('.') ?? -1;
        if (dot < 0 || !int.TryParse(name.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            || !TaskId.TryParse(name![..dot], out var task)) return false;
        attempt = new AttemptId(job, task, number);
        return true;
    }

    public override string ToString() => $"{Job}/{Name}";
}
