namespace MapReduce.Storage.Identity;

/// <summary>
/// Which database a node's journal or catalog is: a random id written once into the database
/// itself (<see cref="StoreIdentityTable"/>), and where it is, in words for an error message.
/// Two nodes on the same database read the same id, however they spell its location; two files
/// of the same path on two machines read different ids.
/// </summary>
public sealed record StoreIdentity(Guid Id, string Where)
{
    /// <summary>The first 8 hex digits: enough to tell two stores apart in a message.</summary>
    public string ShortId => Id.ToString("N")[..8];

    public override string ToString() => $"{Where} (id {ShortId})";
}
