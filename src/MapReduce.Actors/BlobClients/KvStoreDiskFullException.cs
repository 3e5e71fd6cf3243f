namespace MapReduce.Actors.BlobClients;

/// <summary>
/// The kvstore refused a write because its folder's disk is full (the data channel answers 507):
/// nothing of the blob was kept. A worker waits a while for space (<see cref="WaitingBlobClient"/>),
/// then its attempt fails with this message (docs/operations.md#full-disks).
/// </summary>
public sealed class KvStoreDiskFullException(string message) : KvStoreException(message)
{
    /// <summary>How the message begins, whoever reports it.</summary>
    public const string Prefix = "kvstore disk full";

    /// <summary>What the kvstore answers when storing <paramref name="key"/> found no space.</summary>
    public static string Describe(string key, string where) => $"{Prefix}: cannot store {key}: no space left in {where}";
}
