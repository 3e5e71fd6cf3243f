using MapReduce.Actors.Hosting;
using static MapReduce.Actors.StoreCheck.StoreCheckProtocol;

namespace MapReduce.Actors.StoreCheck;

/// <summary>
/// The rule: masters share one journal, and the kvstore and the masters share one catalog.
/// The older member's stores are the cluster's; a joining node that differs is the one refused,
/// so a cluster that runs is never disturbed by a node started with the wrong flags.
/// </summary>
public static class StoreMismatch
{
    /// <summary>Why a node with <paramref name="mine"/> may not join a cluster where an older member has <paramref name="older"/>; null when they agree.</summary>
    public static string? Find(NodeStores mine, NodeStores older)
    {
        if (mine.Journal is { } myJournal && older.Journal is { } theirJournal && myJournal.Id != theirJournal.Id)
            return $"this master's journal is {myJournal} but the cluster's masters use {theirJournal}: give every master the same --journal (mapreduce.journal)";
        if (mine.Catalog is { } myCatalog && older.Catalog is { } theirCatalog && myCatalog.Id != theirCatalog.Id)
            return $"this {RoleName(mine.Roles)}'s catalog is {myCatalog} but the cluster's {RoleName(older.Roles)} uses {theirCatalog}: give the kvstore and every master the same --catalog (mapreduce.catalog)";
        return null;
    }

    private static string RoleName(IReadOnlyList<string> roles) =>
        roles.Contains(NodeRoles.Master) && roles.Contains(NodeRoles.KvStore) ? "kvstore and master"
        : roles.Contains(NodeRoles.Master) ? "master"
        : "kvstore";
}
