using MapReduce.Actors.Master;

namespace MapReduce.Actors.Worker;

/// <summary>Tasks the master hands to a worker; results go back to the master (see MasterProtocol).</summary>
public static class WorkerProtocol
{
    /// <summary>Map <see cref="Chunks"/> (one, or several small ones packed into one task) into one sorted run per partition.</summary>
    public sealed record RunMapTask(string ExecId, string TaskId, string AttemptId, string CodeId, MapChunk[] Chunks, int Reducers);

    public sealed record RunReduceTask(string ExecId, string TaskId, string AttemptId, string CodeId, int Partition, string[] RunKeys, string OutputKey);
}
