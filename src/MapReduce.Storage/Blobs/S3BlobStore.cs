using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace MapReduce.Storage.Blobs;

/// <summary>
/// Blobs as objects in an S3-compatible store (AWS, MinIO, Ceph, SeaweedFS, s3rver). A blob is one
/// PutObject: S3 makes an object visible only once its whole body arrived, so a writer killed
/// mid-upload leaves no object, never part of one (no multipart upload, so nothing to abort; one
/// object is at most 5 GiB). Not every S3-compatible server is as strict (s3rver keeps the bytes of
/// an upload cut off as an object, without its metadata), so each object also carries its length
/// in its metadata, and an object without it or shorter than it is no blob: it does not exist for
/// reads, and reading it fails.
/// Deleting a folder is ListObjectsV2 and DeleteObjects, 1,000 keys a call.
/// </summary>
public sealed class S3BlobStore : IBlobStore, IDisposable
{
    /// <summary>User metadata (x-amz-meta-…) holding the blob's length as its writer meant it.</summary>
    private const string LengthMetadata = "x-amz-meta-mapreduce-length";

    /// <summary>The most keys one DeleteObjects call takes.</summary>
    private const int DeleteBatch = 1000;

    private readonly S3BlobStoreOptions _options;
    private readonly AmazonS3Client _s3;

    public S3BlobStore(S3BlobStoreOptions options)
    {
        _options = options;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // Checksums only where S3 requires one: S3-compatible servers do not all take the
            // SDK's newer default (trailing CRC checksums in an aws-chunked body).
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            // Workers fetch several chunks and runs at once.
            MaxConnectionsPerServer = 64,
        };
        if (options.ServiceUrl.Length > 0)
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }
        _s3 = options.AccessKey is { Length: > 0 } && options.SecretKey is { Length: > 0 }
            ? new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config)
            : new AmazonS3Client(config);
    }

    public string Location => _options.Location;

    public async Task<bool> ExistsAsync(string key, CancellationToken ct = default)
    {
        var objectKey = _options.ObjectKey(key);
        try
        {
            var head = await _s3.GetObjectMetadataAsync(_options.Bucket, objectKey, ct).ConfigureAwait(false);
            return Incomplete(head.Metadata, head.ContentLength) is null;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        catch (Exception e) when (IsServiceFailure(e))
        {
            throw Failure("look up", key, e);
        }
    }

    public async Task<long> PutAsync(string key, Stream data, long length, CancellationToken ct = default)
    {
        var objectKey = _options.ObjectKey(key);
        // A body that cannot be read twice (a request the kvstore is relaying) is spooled to a temp
        // file first: the SDK signs a seekable body's hash and sends it plain (see ExactLengthStream).
        await using var spool = data.CanSeek ? null : await SpoolAsync(data, length, ct).ConfigureAwait(false);
        var request = new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = objectKey,
            InputStream = new ExactLengthStream(spool ?? data, length),
            AutoCloseStream = false,
            UseChunkEncoding = false,
            ContentType = "application/octet-stream",
        };
        request.Headers.ContentLength = length;
        request.Metadata.Add(LengthMetadata, length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            await _s3.PutObjectAsync(request, ct).ConfigureAwait(false);
            return length;
        }
        catch (Exception e) when (IsServiceFailure(e))
        {
            throw Failure("store", key, e);
        }
    }

    private static async Task<FileStream> SpoolAsync(Stream data, long length, CancellationToken ct)
    {
        var spool = new FileStream(Path.Combine(Path.GetTempPath(), "mapreduce-s3-" + Guid.NewGuid().ToString("N")), FileMode.CreateNew,
            FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        try
        {
            await new ExactLengthStream(data, length).CopyToAsync(spool, 1 << 20, ct).ConfigureAwait(false);
            spool.Position = 0;
            return spool;
        }
        catch
        {
            await spool.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<StoredBlob?> OpenReadAsync(string key, CancellationToken ct = default)
    {
        var objectKey = _options.ObjectKey(key);
        try
        {
            var response = await _s3.GetObjectAsync(_options.Bucket, objectKey, ct).ConfigureAwait(false);
            if (Incomplete(response.Metadata, response.ContentLength) is { } problem)
            {
                response.Dispose();
                throw new BlobStoreException($"{key} in {Location} is incomplete: {problem}");
            }
            return new StoredBlob(response.ResponseStream, response.ContentLength);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (Exception e) when (IsServiceFailure(e))
        {
            throw Failure("read", key, e);
        }
    }

    /// <summary>Why the object is not a whole blob (an upload cut off), or null when it is.</summary>
    private static string? Incomplete(MetadataCollection metadata, long contentLength) =>
        !long.TryParse(metadata[LengthMetadata], System.Globalization.CultureInfo.InvariantCulture, out var expected)
            ? $"{contentLength} bytes and no recorded length (its writer died mid-upload, or it was not written by MapReduce.NET)"
            : expected != contentLength ? $"{contentLength} of {expected} bytes (its writer died mid-upload)" : null;

    public async Task<(int Blobs, long Bytes)> DeleteAllAsync(IReadOnlyCollection<string> keys, CancellationToken ct = default)
    {
        // S3 deletes a missing key without a word, so the sizes are looked up first: a dataset's
        // deletion reports what it freed.
        var (blobs, bytes) = (0, 0L);
        var present = new List<string>();
        foreach (var key in keys)
        {
            var objectKey = _options.ObjectKey(key);
            try
            {
                var head = await _s3.GetObjectMetadataAsync(_options.Bucket, objectKey, ct).ConfigureAwait(false);
                (blobs, bytes) = (blobs + 1, bytes + head.ContentLength);
                present.Add(objectKey);
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound) { }
            catch (Exception e) when (IsServiceFailure(e))
            {
                throw Failure("look up", key, e);
            }
        }
        await DeleteObjectsAsync(present, ct).ConfigureAwait(false);
        return (blobs, bytes);
    }

    public async Task<int> DeleteFolderAsync(string prefix, CancellationToken ct = default)
    {
        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = _options.ObjectKey(prefix) + "/" };
        var deleted = 0;
        try
        {
            while (true)
            {
                var page = await _s3.ListObjectsV2Async(request, ct).ConfigureAwait(false);
                var keys = (page.S3Objects ?? []).Select(o => o.Key).ToList();
                await DeleteObjectsAsync(keys, ct).ConfigureAwait(false);
                deleted += keys.Count;
                if (page.IsTruncated != true) return deleted;
                request.ContinuationToken = page.NextContinuationToken;
            }
        }
        catch (Exception e) when (IsServiceFailure(e))
        {
            throw Failure("delete", prefix, e);
        }
    }

    /// <summary>Nothing to sweep: a PutObject that never completed left no object behind.</summary>
    public Task<int> SweepAbandonedAsync(TimeSpan idle, CancellationToken ct = default) => Task.FromResult(0);

    /// <summary>Every object key under the store's prefix, in key order (tests and operators list the bucket with it).</summary>
    public async Task<List<string>> ListAsync(string blobPrefix = "", CancellationToken ct = default)
    {
        var prefix = _options.Prefix.Length == 0 ? blobPrefix : _options.Prefix + "/" + blobPrefix;
        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = prefix };
        var keys = new List<string>();
        while (true)
        {
            var page = await _s3.ListObjectsV2Async(request, ct).ConfigureAwait(false);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            if (page.IsTruncated != true) return keys;
            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    private async Task DeleteObjectsAsync(List<string> objectKeys, CancellationToken ct)
    {
        foreach (var batch in objectKeys.Chunk(DeleteBatch))
        {
            var response = await _s3.DeleteObjectsAsync(new DeleteObjectsRequest
            {
                BucketName = _options.Bucket,
                Objects = batch.Select(k => new KeyVersion { Key = k }).ToList(),
                Quiet = true,
            }, ct).ConfigureAwait(false);
            if (response.DeleteErrors is { Count: > 0 } errors)
                throw new BlobStoreException($"{Location} did not delete {errors.Count} objects, {errors[0].Key} first: {errors[0].Code} {errors[0].Message}");
        }
    }

    private static bool IsServiceFailure(Exception e) => e is AmazonServiceException or AmazonClientException or HttpRequestException;

    private BlobStoreException Failure(string what, string key, Exception e) =>
        new($"cannot {what} {key} in {Location}: {Reason(e)}", e);

    /// <summary>The innermost message: "Connection refused" says more than the SDK's wrapper.</summary>
    private static string Reason(Exception e)
    {
        var message = e is AmazonS3Exception s3 && s3.ErrorCode is { Length: > 0 } code ? $"{code}: {e.Message}" : e.Message;
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message == message ? message : $"{message} ({e.Message})";
    }

    public void Dispose() => _s3.Dispose();
}
