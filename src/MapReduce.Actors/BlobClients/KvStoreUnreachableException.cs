namespace MapReduce.Actors.BlobClients;

/// <summary>
/// The kvstore could not be reached (no kvstore node is up in the cluster, its data channel refused
/// the connection, a transfer broke off or stalled), as opposed to a refusal it answered (a missing
/// blob, a bad key): asking again once it is back may succeed.
/// </summary>
public sealed class KvStoreUnreachableException(string message) : KvStoreException(message)
{
    /// <summary>Whether a failed request to the kvstore may succeed once it is back: it was not reached, or its actor did not answer in time.</summary>
    public static bool IsOutage(Exception e) => e is KvStoreUnreachableException or Akka.Actor.AskTimeoutException;

    /// <summary>What a person is told when a request needs the kvstore and it cannot be reached.</summary>
    public static string Advice(string why) => $"the kvstore is not reachable ({why}); is the kvstore node running?";
}
