namespace MapReduce.Actors.Worker;

/// <summary>Tasks the master hands to a worker; results go back to the master (see MasterProtocol).</summary>
public static class WorkerProtocol
{
    public sealed record RunMapTask(string ExecId, string TaskId, string AttemptId, string CodeId, string DocId, int ChunkIndex, string ChunkKey, int Reducers);

    public sealed record RunReduceTask(string ExecId, string TaskId, string AttemptId, string CodeId, int Partition, string[] RunKeys, string OutputKey);
}
