using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;

namespace MapReduce.Actors.Serialization;

/// <summary>
/// Hyperion for the messages between nodes, closed to the types of <see cref="ClusterMessageTypes"/>:
/// a peer that sends any other type name (a gadget that runs code when it is built, or just a type
/// this cluster never sends) has its message refused before the type is loaded, and this node
/// refuses to send one. Bound in hocon/mapreduce.hocon under the name "hyperion".
/// </summary>
public sealed class ClusterMessageSerializer : HyperionSerializer
{
    /// <summary>Akka's choice when no akka.actor.serialization-settings.hyperion section is configured.</summary>
    public ClusterMessageSerializer(ExtendedActorSystem system)
        : base(system, Closed(HyperionSerializerSettings.Default))
    {
    }

    public ClusterMessageSerializer(ExtendedActorSystem system, Config config)
        : base(system, Closed(HyperionSerializerSettings.Create(config)))
    {
    }

    // Given here rather than through HyperionSerializerSetup: the filter is only consulted when
    // disallow-unsafe-type is on, so that is forced on too.
    private static HyperionSerializerSettings Closed(HyperionSerializerSettings settings) =>
        settings.WithDisallowUnsafeType(true).WithTypeFilter(ClusterMessageTypes.Filter);
}
