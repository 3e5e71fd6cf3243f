using MapReduce.Actors.Master;

namespace MapReduce.Actors.Protocol;

/// <summary>Tasks the master hands to a worker; results go back to the master (see MasterProtocol).</summary>
public static class WorkerProtocol
{
    /// <summary>
    /// Map <see cref="Chunks"/> (one, or several small ones packed into one task) into one sorted run per partition.
    /// <see cref="ByLine"/>: null, Map gets whole chunks; else it gets one line at a time, except these lines, which are skipped (<see cref="BadRecords"/>).
    /// <see cref="Incremental"/>: the job keeps its map outputs for re-runs (a script that partitions with TotalOrder cannot).
    /// </summary>
    public sealed record RunMapTask(AttemptId Attempt, string CodeId, MapChunk[] Chunks, int Reducers, InputLine[]? ByLine = null, bool Incremental = false);

    /// <summary>
    /// Merge the runs of partition <c>Attempt.Task.Index</c>: <see cref="MapAttempts"/> holds, for
    /// each map of the job, the accepted attempt whose run to read (0: that map wrote nothing here),
    /// four bytes a map instead of a key each, so the message stays small for thousands of maps.
    /// </summary>
    /// <remarks>
    /// <see cref="Reused"/>: the maps an incremental job reuses from earlier jobs (with a run in this
    /// partition), read from where those jobs stored them. Runs are read in map order either way, so
    /// the values of a key reach Reduce in the order a run without reuse gives them.
    /// </remarks>
    public sealed record RunReduceTask(AttemptId Attempt, string CodeId, int[] MapAttempts, ReusedRun[]? Reused = null)
    {
        public int Partition => Attempt.Task.Index;

        public string[] RunKeys()
        {
            var reused = (Reused ?? []).ToDictionary(r => r.Map, r => r.RunsFolder);
            var keys = new List<string>();
            for (var map = 0; map < MapAttempts.Length; map++)
            {
                if (MapAttempts[map] > 0) keys.Add(BlobKeys.MapRun(new AttemptId(Attempt.Job, TaskId.Map(map), MapAttempts[map]), Partition));
                else if (reused.TryGetValue(map, out var folder)) keys.Add(BlobKeys.MapRunIn(folder, Partition));
            }
            return [.. keys];
        }
    }

    /// <summary>Stop an attempt (it ran past task-timeout, or its job was cancelled); the worker frees its slot once it has stopped.</summary>
    public sealed record CancelAttempt(AttemptId Attempt, string Reason);
}

/// <summary>A map of an incremental job whose output is an earlier job's: the folder of that job's runs.</summary>
public sealed record ReusedRun(int Map, string RunsFolder);
