using MapReduce.Actors.Master;

namespace MapReduce.Actors.Worker;

/// <summary>Tasks the master hands to a worker; results go back to the master (see MasterProtocol).</summary>
public static class WorkerProtocol
{
    /// <summary>
    /// Map <see cref="Chunks"/> (one, or several small ones packed into one task) into one sorted run per partition.
    /// <see cref="ByLine"/>: null, Map gets whole chunks; else it gets one line at a time, except these lines, which are skipped (<see cref="BadRecords"/>).
    /// </summary>
    public sealed record RunMapTask(AttemptId Attempt, string CodeId, MapChunk[] Chunks, int Reducers, InputLine[]? ByLine = null);

    /// <summary>
    /// Merge the runs of partition <c>Attempt.Task.Index</c>: <see cref="MapAttempts"/> holds, for
    /// each map of the job, the accepted attempt whose run to read (0: that map wrote nothing here),
    /// four bytes a map instead of a key each, so the message stays small for thousands of maps.
    /// </summary>
    public sealed record RunReduceTask(AttemptId Attempt, string CodeId, int[] MapAttempts)
    {
        public int Partition => Attempt.Task.Index;

        public string[] RunKeys() => MapAttempts
            .Select((n, map) => (n, map))
            .Where(x => x.n > 0)
            .Select(x => BlobKeys.MapRun(new AttemptId(Attempt.Job, TaskId.Map(x.map), x.n), Partition))
            .ToArray();
    }

    /// <summary>Stop an attempt (it ran past task-timeout, or its job was cancelled); the worker frees its slot once it has stopped.</summary>
    public sealed record CancelAttempt(AttemptId Attempt, string Reason);
}
