using Akka.Actor;
using Akka.Persistence;

namespace MapReduce.Actors.Master;

/// <summary>
/// Touches the journal once when a master node starts. The first persistent actor in a process
/// takes 2-5 s to reach the journal (plugin start, connection, query compilation); paying that at
/// start keeps it out of a failover, when a standby master must take over fast.
/// </summary>
public sealed class JournalWarmup : ReceivePersistentActor
{
    public JournalWarmup(string persistenceId)
    {
        PersistenceId = persistenceId;
        Recover<RecoveryCompleted>(_ => Context.Stop(Self));
    }

    public override string PersistenceId { get; }

    public static Props Props(string nodeAddress) =>
        Akka.Actor.Props.Create(() => new JournalWarmup("journal-warmup-" + nodeAddress));
}
