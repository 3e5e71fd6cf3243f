namespace MapReduce.Actors.BlobClients;

/// <summary>
/// A write into the folder of a job that has ended was refused, and what it stored was taken back
/// (the store's fence, Storage.Blobs.JobFence; the data channel answers 410 Gone). The attempt that
/// wrote it ends as stopped, not failed: its job is over, so nothing runs again.
/// </summary>
public sealed class KvStoreJobEndedException(string message) : KvStoreException(message);
