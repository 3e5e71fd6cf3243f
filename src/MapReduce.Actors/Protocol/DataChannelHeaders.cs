namespace MapReduce.Actors.Protocol;

/// <summary>The kvstore data channel's own HTTP headers, which its server sends and every blob client reads.</summary>
public static class DataChannelHeaders
{
    /// <summary>The response header with a whole blob's stored checksum (Storage's <c>BlobChecksum.ToString</c>); absent for a range, or a blob stored without one.</summary>
    public const string Checksum = "X-MapReduce-Checksum";

    /// <summary>The header of a 500 answer for a blob found corrupt before a byte was sent (its length differs from the stored one): why.</summary>
    public const string Corrupt = "X-MapReduce-Corrupt";
}
