using Akka.Configuration;
using MapReduce.Storage.Blobs;

namespace MapReduce.Actors.Hosting;

/// <summary>Which store holds the cluster's blobs: the kvstore's folder (local mode's default) or an S3-compatible object store.</summary>
public enum BlobStoreKind
{
    Local,
    S3,
}

/// <summary>
/// The <c>mapreduce.blob-store</c> section. With <c>kind = s3</c> every node reaches the bucket
/// itself (workers read chunks and write runs and outputs there; the kvstore keeps the catalog),
/// so every node must be given the same section.
/// </summary>
public sealed record BlobStoreSettings(BlobStoreKind Kind, S3BlobStoreOptions? S3)
{
    /// <summary>kind = s3: how long a starting node asks again an endpoint that does not answer yet (a container starting beside it).</summary>
    public required TimeSpan StartPatience { get; init; }

    public static BlobStoreSettings From(Config mapreduce)
    {
        var section = mapreduce.GetConfig("blob-store") ?? throw new ConfigurationException("mapreduce.blob-store is missing from the configuration");
        var startPatience = Durations.Positive(mapreduce, "blob-store.start-patience");
        var kind = section.GetString("kind");
        switch (kind)
        {
            case "local":
                return new BlobStoreSettings(BlobStoreKind.Local, null) { StartPatience = startPatience };
            case "s3":
                var bucket = section.GetString("bucket", "");
                if (bucket.Length == 0) throw new ConfigurationException("mapreduce.blob-store.bucket must name a bucket when kind = s3");
                var prefix = section.GetString("prefix", "").Trim('/');
                if (prefix.Length > 0 && BlobKey.Problem(prefix) is { } problem)
                    throw new ConfigurationException($"mapreduce.blob-store.prefix: {problem}");
                var serviceUrl = section.GetString("service-url", "");
                if (serviceUrl.Length > 0 && !(Uri.TryCreate(serviceUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
                    throw new ConfigurationException($"mapreduce.blob-store.service-url must be an http:// or https:// URL, not '{serviceUrl}'");
                return new BlobStoreSettings(BlobStoreKind.S3, new S3BlobStoreOptions(
                    serviceUrl,
                    bucket,
                    prefix,
                    section.GetString("region"),
                    section.GetBoolean("force-path-style"),
                    NullIfEmpty(section.GetString("access-key", "")),
                    NullIfEmpty(section.GetString("secret-key", "")))) { StartPatience = startPatience };
            default:
                throw new ConfigurationException($"mapreduce.blob-store.kind must be local or s3, not '{kind}'");
        }
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
