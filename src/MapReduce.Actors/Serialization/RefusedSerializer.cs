using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;

namespace MapReduce.Actors.Serialization;

/// <summary>
/// Takes the place of every serializer Akka's modules bring that the cluster does not need
/// (hocon/mapreduce.hocon binds their names to this class): Akka's JSON serializer, which builds
/// whatever type a message names, remote deployment, protobuf by type name, persistence over the
/// wire, sharding, distributed data, pub-sub, cluster clients, stream refs. Their identifiers then
/// name no serializer on this node, so a message that a peer wrote with one is dropped by remoting
/// before anything in it is built; and this node refuses to write one.
/// </summary>
public sealed class RefusedSerializer : Serializer
{
    /// <summary>How hocon names this class.</summary>
    public const string ClassName = "MapReduce.Actors.Serialization.RefusedSerializer, MapReduce.Actors";

    public RefusedSerializer(ExtendedActorSystem system) : base(system)
    {
    }

    /// <summary>Akka passes a refused serializer's own settings section (json has one); there is nothing to read in it.</summary>
    public RefusedSerializer(ExtendedActorSystem system, Config config) : base(system)
    {
    }

    /// <summary>An id of the project's own (Akka keeps 0 to 40): every refused name shares it, and no peer's message is read with it.</summary>
    public override int Identifier => 4712;

    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj) =>
        throw new System.Runtime.Serialization.SerializationException(
            $"{obj.GetType().FullName} is bound to a serializer this cluster refuses (hocon/mapreduce.hocon, SECURITY.md)");

    public override object FromBinary(byte[] bytes, Type type) =>
        throw new System.Runtime.Serialization.SerializationException("this cluster reads no message with a serializer it refuses (SECURITY.md)");
}
