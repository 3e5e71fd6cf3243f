namespace MapReduce.Actors.Master;

/// <summary>
/// What the master journals. Each event is a fact about one job; replaying them in order through
/// <see cref="MasterState.Apply"/> rebuilds every job after a restart or failover. Serialized as
/// JSON under the type's name (see JournalEventSerializer): rename with care.
/// </summary>
public interface IMasterEvent
{
    string ExecId { get; }
}

/// <summary>One chunk a map task reads.</summary>
public sealed record MapChunk(string DocId, int ChunkIndex, string ChunkKey)
{
    /// <summary>How errors name the chunk ("document 'a.txt', chunk 0"); a method, so the journal does not store it.</summary>
    public string Describe() => $"document '{DocId}', chunk {ChunkIndex}";
}

/// <summary>
/// A map task's input: its first chunk, and <see cref="More"/> chunks when small files share the
/// task (see <see cref="MapSplits"/>). Events journaled before tasks were packed have no More.
/// </summary>
public sealed record MapInput(string TaskId, string DocId, int ChunkIndex, string ChunkKey, MapChunk[]? More = null)
{
    public MapChunk[] Chunks() => [new(DocId, ChunkIndex, ChunkKey), .. More ?? []];
}

public sealed record JobSubmitted(string ExecId, string CodeId, string DirId, int Reducers, MapInput[] Maps, DateTime At) : IMasterEvent;

public sealed record TaskStarted(string ExecId, string TaskId, string AttemptId, string Worker, DateTime At) : IMasterEvent;

public sealed record MapSucceeded(string ExecId, string TaskId, string AttemptId, int[] NonEmptyPartitions, DateTime At) : IMasterEvent;

public sealed record ReduceSucceeded(string ExecId, string TaskId, string AttemptId, string OutputKey, DateTime At) : IMasterEvent;

/// <summary>An attempt failed. <see cref="Counted"/> attempts count against the retry limit; lost ones (worker gone, rejected) do not.</summary>
public sealed record TaskFailed(string ExecId, string TaskId, string AttemptId, string Error, bool Counted, DateTime At) : IMasterEvent;

public sealed record JobSucceeded(string ExecId, string ResultDirId, string[] PartKeys, DateTime At) : IMasterEvent;

public sealed record JobFailed(string ExecId, string Reason, DateTime At) : IMasterEvent;
