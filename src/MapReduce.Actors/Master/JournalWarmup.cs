using Akka.Actor;
using Akka.Persistence;
using MapReduce.Actors.Protocol;

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
        Recover<RecoveryCompleted>(_ =>
        {
            WarmSerializer(Context.System.Serialization);
            Context.Stop(Self);
        });
    }

    public override string PersistenceId { get; }

    /// <summary>Round-trips one of each event type and a snapshot: a replay after failover then finds the JSON metadata built.</summary>
    private static void WarmSerializer(Akka.Serialization.Serialization serialization)
    {
        var at = DateTime.UtcNow;
        IMasterEvent[] samples =
        [
            new JobSubmitted("warmup", "code", "data", 1, [new MapInput("m00000", "doc", 0, "key", [new MapChunk("doc", 1, "key-1")])], at),
            new TaskStarted("warmup", "m00000", "m00000.1", "worker", at),
            new MapSucceeded("warmup", "m00000", "m00000.1", [0], at, new Dictionary<string, long> { ["map.output.pairs"] = 1 }),
            new ReduceSucceeded("warmup", "r00000", "r00000.1", "key", at, new Dictionary<string, long> { ["reduce.groups"] = 1 }),
            new TaskFailed("warmup", "m00000", "m00000.1", "error", true, at),
            new RecordSkipped("warmup", "m00000", "m00000.1", new InputLine("doc", 0, 1), "error", at),
            new JobSucceeded("warmup", "result", ["key"], at),
            new JobFailed("warmup", "reason", at),
            new JobArchived("warmup", at),
        ];
        var state = MasterState.Empty.Apply(samples[0]).Apply(samples[1]).Apply(samples[2]);
        foreach (var sample in samples.Cast<object>().Append(state.ToSnapshot()))
        {
            var serializer = (Akka.Serialization.SerializerWithStringManifest)serialization.FindSerializerFor(sample);
            serializer.FromBinary(serializer.ToBinary(sample), serializer.Manifest(sample));
        }
    }

    public static Props Props(string nodeAddress) =>
        Akka.Actor.Props.Create(() => new JournalWarmup("journal-warmup-" + nodeAddress));
}
