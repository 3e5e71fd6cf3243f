using Akka.Configuration;
using MapReduce.Actors.Hosting;
using MapReduce.Storage.Blobs;

namespace MapReduce.Tests.KvStore;

/// <summary>mapreduce.blob-store read from HOCON over the shipped defaults, and blob keys mapped to object keys.</summary>
public sealed class BlobStoreSettingsTests
{
    private static BlobStoreSettings Read(string hocon) =>
        MapReduceSettings.From(ConfigurationFactory.ParseString(hocon).WithFallback(MapReduceSettings.LoadConfig())).BlobStore;

    private static string Error(string hocon) => Assert.Throws<ConfigurationException>(() => Read(hocon)).Message;

    [Fact]
    public void The_default_is_the_kvstores_folder()
    {
        Assert.Equal(new BlobStoreSettings(BlobStoreKind.Local, null) { StartPatience = TimeSpan.FromSeconds(10) }, MapReduceSettings.From(MapReduceSettings.LoadConfig()).BlobStore);
    }

    [Fact]
    public void An_s3_block_is_read_whole_with_defaults_for_what_it_leaves_out()
    {
        var settings = Read("""mapreduce.blob-store { kind = s3, service-url = "http://127.0.0.1:9000", bucket = jobs, access-key = AK, secret-key = SK }""");
        Assert.Equal(BlobStoreKind.S3, settings.Kind);
        Assert.Equal(new S3BlobStoreOptions("http://127.0.0.1:9000", "jobs", "", "us-east-1", ForcePathStyle: true, "AK", "SK"), settings.S3);
    }

    [Fact]
    public void Empty_credentials_are_left_to_the_sdks_chain_and_the_prefix_loses_its_slashes()
    {
        var settings = Read("""mapreduce.blob-store { kind = s3, bucket = jobs, prefix = "/team-a/run1/", region = eu-west-1, force-path-style = off }""");
        Assert.Equal(new S3BlobStoreOptions("", "jobs", "team-a/run1", "eu-west-1", ForcePathStyle: false, null, null), settings.S3);
        Assert.Equal("bucket jobs/team-a/run1 at AWS eu-west-1", settings.S3!.Location);
    }

    [Fact]
    public void Mistakes_are_named()
    {
        Assert.Equal("mapreduce.blob-store.kind must be local or s3, not 'azure'", Error("mapreduce.blob-store.kind = azure"));
        Assert.Equal("mapreduce.blob-store.bucket must name a bucket when kind = s3", Error("mapreduce.blob-store.kind = s3"));
        Assert.Equal("mapreduce.blob-store.service-url must be an http:// or https:// URL, not 'minio:9000'",
            Error("""mapreduce.blob-store { kind = s3, bucket = b, service-url = "minio:9000" }"""));
        Assert.StartsWith("mapreduce.blob-store.prefix: invalid blob key '../up'", Error("""mapreduce.blob-store { kind = s3, bucket = b, prefix = "../up" }"""));
    }

    [Fact]
    public void A_blob_key_is_its_object_key_under_the_prefix_and_an_invalid_key_never_reaches_the_bucket()
    {
        var atRoot = new S3BlobStoreOptions("http://127.0.0.1:9000", "b", "", "us-east-1", true, null, null);
        var prefixed = atRoot with { Prefix = "team-a" };
        Assert.Equal("jobs/job-1/map/m00007.2/p00003", atRoot.ObjectKey("jobs/job-1/map/m00007.2/p00003"));
        Assert.Equal("team-a/data/data-1/000000-000001", prefixed.ObjectKey("data/data-1/000000-000001"));
        Assert.Equal("bucket b/team-a at http://127.0.0.1:9000", prefixed.Location);
        Assert.Throws<InvalidBlobKeyException>(() => prefixed.ObjectKey("../other-team/x"));
        Assert.Throws<InvalidBlobKeyException>(() => prefixed.ObjectKey("/abs"));
    }
}
