using Akka.Actor;
using MapReduce.Storage.Identity;

namespace MapReduce.Actors.StoreCheck;

/// <summary>
/// Messages of the store check (<see cref="StoreCheckActor"/>, at /user/store-check on every
/// master and kvstore node): a node that joins asks the older members which journal and catalog
/// they use, and is refused when its own differ.
/// </summary>
public static class StoreCheckProtocol
{
    /// <summary>Asks a node which journal and catalog it uses; answered with <see cref="NodeStores"/>.</summary>
    public sealed record WhichStores;

    /// <summary>
    /// A node's roles, and the journal (masters only) and catalog (masters and the kvstore) it uses;
    /// null where its roles have none.
    /// </summary>
    public sealed record NodeStores(IReadOnlyList<string> Roles, StoreIdentity? Journal, StoreIdentity? Catalog);

    /// <summary>
    /// Compares this node's stores with those of the given older members (the store-check actors of
    /// the Up members older than this node). The actor sends it to itself once this node is Up; a
    /// test sends it with probes.
    /// </summary>
    public sealed record CheckAgainst(IReadOnlyList<ActorPath> OlderMembers);
}
