namespace MapReduce.Storage.Blobs;

/// <summary>
/// Where an S3-compatible object store keeps the cluster's blobs (mapreduce.blob-store with kind = s3).
/// Null credentials: the AWS SDK's own chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a
/// profile, an instance role).
/// </summary>
/// <param name="ServiceUrl">The service's endpoint (http://127.0.0.1:9000 for MinIO); empty: AWS in <paramref name="Region"/>.</param>
/// <param name="Prefix">Object keys start with this and a '/' (empty: at the bucket's root), so clusters can share a bucket.</param>
/// <param name="ForcePathStyle">http://host/bucket/key rather than http://bucket.host/key, as MinIO, Ceph and s3rver expect.</param>
public sealed record S3BlobStoreOptions(
    string ServiceUrl,
    string Bucket,
    string Prefix,
    string Region,
    bool ForcePathStyle,
    string? AccessKey,
    string? SecretKey)
{
    /// <summary>The object key of a blob key: the prefix, then the blob key as it is (its grammar is already safe in S3).</summary>
    public string ObjectKey(string blobKey)
    {
        BlobKey.Validate(blobKey);
        return Prefix.Length == 0 ? blobKey : Prefix + "/" + blobKey;
    }

    /// <summary>Where the blobs are, for logs and messages; never the credentials.</summary>
    public string Location =>
        $"bucket {Bucket}{(Prefix.Length == 0 ? "" : "/" + Prefix)} at {(ServiceUrl.Length == 0 ? "AWS " + Region : ServiceUrl)}";
}
