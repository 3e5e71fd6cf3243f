namespace MapReduce.Actors.Protocol;

// What a map task reads, as the master hands it out and journals it (inside JobSubmitted and
// TaskFailed) and as workers name the lines they skip: shared by Master, Worker and the CLI.

/// <summary>One chunk a map task reads.</summary>
public sealed record MapChunk(string DocId, int ChunkIndex, string ChunkKey)
{
    /// <summary>How errors name the chunk ("document 'a.txt', chunk 0"); a method, so the journal does not store it.</summary>
    public string Describe() => $"document '{DocId}', chunk {ChunkIndex}";
}

/// <summary>
/// A map task's input: its first chunk, and <see cref="More"/> chunks when small files share the
/// task (see the master's <c>MapSplits</c>). Events journaled before tasks were packed have no More.
/// In an incremental job (<c>--incremental</c>): <see cref="OutputId"/> is the content id of the
/// task's output (Storage.Incremental.ContentIds.MapOutput); <see cref="ReusedRuns"/>, when set, is
/// the folder of an earlier job's runs with that id, which the job reads instead of running the task
/// (<see cref="ReusedPartitions"/>: the partitions it has a run for). Older events have none of the three.
/// </summary>
public sealed record MapInput(string TaskId, string DocId, int ChunkIndex, string ChunkKey, MapChunk[]? More = null,
    string? OutputId = null, string? ReusedRuns = null, int[]? ReusedPartitions = null)
{
    public MapChunk[] Chunks() => [new(DocId, ChunkIndex, ChunkKey), .. More ?? []];

    public bool IsReused => ReusedRuns is not null;
}

/// <summary>
/// One line of a map task's input: its document, its chunk, and its number within the chunk (from
/// 1; in a document's first chunk that is the document's own line number).
/// </summary>
public sealed record InputLine(string DocId, int ChunkIndex, long Line)
{
    /// <summary>
    /// The line's number in its document, when the worker counted the lines of the chunks before
    /// (an attempt that maps a later chunk line by line); null in a first chunk and in events of
    /// older builds. Not part of the line's identity: the chunk and its line name it.
    /// </summary>
    public long? DocumentLine { get; init; }

    /// <summary>How status and logs name it; a method, so the journal does not store it.</summary>
    public string Describe() => ChunkIndex == 0 ? $"document '{DocId}', line {Line}"
        : DocumentLine is { } line ? $"document '{DocId}', line {line}"
        : $"document '{DocId}', chunk {ChunkIndex}, line {Line} of the chunk";

    public bool Equals(InputLine? other) => other is not null && DocId == other.DocId && ChunkIndex == other.ChunkIndex && Line == other.Line;

    public override int GetHashCode() => HashCode.Combine(DocId, ChunkIndex, Line);
}
