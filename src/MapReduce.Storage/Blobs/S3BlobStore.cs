using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
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
/// Blobs are written once, as in <see cref="LocalBlobStore"/>: each object also carries the SHA-256
/// of its bytes in its metadata, and a put first looks the key up (HeadObject): a whole blob with
/// the same length and hash makes the put a success without an upload (a retry), one with other
/// bytes a <see cref="BlobConflictException"/>. The PutObject itself is conditional
/// (<c>If-None-Match: *</c>, or <c>If-Match</c> on the ETag of an incomplete object it replaces), so
/// on a server that honours conditional writes (AWS S3 since 2024, MinIO since 2024, Ceph RGW) two
/// writers racing on one key cannot both succeed; on one that ignores them (s3rver 3.7) only the
/// lookup guards the key, and a write racing between another's lookup and upload can replace it.
/// Deleting a folder is ListObjectsV2 and DeleteObjects, 1,000 keys a call.
/// That SHA-256 is also the blob's checksum: a whole read is checked against it (<see cref="ChecksumReadStream"/>).
/// </summary>
public sealed class S3BlobStore : IBlobStore, IDisposable
{
    /// <summary>User metadata (x-amz-meta-…) holding the blob's length as its writer meant it.</summary>
    private const string LengthMetadata = "x-amz-meta-mapreduce-length";

    /// <summary>User metadata holding the SHA-256 of the blob's bytes (lowercase hex): a second put of the key compares with it.</summary>
    public const string Sha256Metadata = "x-amz-meta-mapreduce-sha256";

    /// <summary>How often a put looks the key up again when a conditional PutObject lost a race, before it gives up.</summary>
    private const int PutAttempts = 3;

    private const int HashBufferSize = 1 << 20;

    /// <summary>The most keys one DeleteObjects call takes.</summary>
    private const int DeleteBatch = 1000;

    private readonly S3BlobStoreOptions _options;
    private readonly AmazonS3Client _s3;

    public S3BlobStore(S3BlobStoreOptions options)
    {
        _options = options;
        _s3 = NewClient(options);
    }

    private static AmazonS3Client NewClient(S3BlobStoreOptions options, Action<AmazonS3Config>? tune = null)
    {
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
        tune?.Invoke(config);
        return options.AccessKey is { Length: > 0 } && options.SecretKey is { Length: > 0 }
            ? new HashingS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config)
            : new HashingS3Client(config);
    }

    public string Location => _options.Location;

    public async Task<bool> ExistsAsync(string key, CancellationToken ct = default)
    {
        try
        {
            return await HeadAsync(_options.ObjectKey(key), ct).ConfigureAwait(false) is { Whole: true };
        }
        catch (Exception e) when (IsServiceFailure(e))
        {
            throw Failure("look up", key, e);
        }
    }

    /// <summary>
    /// Stores the blob unless the key already holds it: the same bytes again (a retried upload)
    /// succeed without an upload, other bytes throw <see cref="BlobConflictException"/>, and a
    /// script under <c>code/</c> must hash to its id (<see cref="CodeBlob"/>). An object at the key
    /// that is no whole blob (an upload cut off on a server that keeps such bytes) is replaced.
    /// </summary>
    public async Task<long> PutAsync(string key, Stream data, long length, CancellationToken ct = default)
    {
        var objectKey = _options.ObjectKey(key);
        // A body that cannot be read twice (a request the kvstore is relaying) is spooled to a temp
        // file first, and hashed on the way: the SDK signs a seekable body's hash and sends it plain
        // (see ExactLengthStream).
        (FileStream File, string Sha256)? spooled = data.CanSeek ? null : await SpoolAsync(data, length, ct).ConfigureAwait(false);
        var spool = spooled?.File;
        await using var deletesSpool = spool;
        var body = new ExactLengthStream(spool ?? data, length);
        // Null until known: a seekable body is hashed by the SDK's pass over it for the request's
        // signature (HashingS3Client), not by a pass of its own.
        var sha256 = spooled?.Sha256;
        try
        {
            if (CodeBlob.IdInKey(key) is not null)
            {
                sha256 ??= await HashAsync(body, ct).ConfigureAwait(false);
                if (CodeBlob.ProblemOfDigest(key, sha256) is { } problem) throw new BlobConflictException(problem);
            }
            for (var attempt = 1; ; attempt++)
            {
                var existing = await HeadAsync(objectKey, ct).ConfigureAwait(false);
                if (existing is { Whole: true })
                {
                    sha256 ??= await HashAsync(body, ct).ConfigureAwait(false);
                    if (!await SameBytesAsync(existing, key, length, sha256, ct).ConfigureAwait(false))
                        throw new BlobConflictException($"blob {key} already exists with other bytes; a blob is written once");
                    // Not this write's blob: its own writer (or the job's clean-up) deletes it when the job has ended.
                    await FenceAsync(key, objectKey, published: false, ct).ConfigureAwait(false);
                    return length;
                }
                body.Position = 0;
                var request = new PutObjectRequest
                {
                    BucketName = _options.Bucket,
                    Key = objectKey,
                    InputStream = body,
                    AutoCloseStream = false,
                    UseChunkEncoding = false,
                    ContentType = "application/octet-stream",
                };
                request.Headers.ContentLength = length;
                request.Metadata.Add(LengthMetadata, length.ToString(CultureInfo.InvariantCulture));
                if (sha256 is not null) request.Metadata.Add(Sha256Metadata, sha256);
                // Only where nothing is, or only the incomplete object just seen.
                if (existing is null) request.IfNoneMatch = "*";
                else request.IfMatch = existing.ETag;
                try
                {
                    await _s3.PutObjectAsync(request, ct).ConfigureAwait(false);
                }
                catch (AmazonS3Exception e) when (attempt < PutAttempts && LostRace(e))
                {
                    // Another writer got there first, or was writing at the same time: look again.
                    continue;
                }
                if (AfterPut is { } afterPut) await afterPut(key).ConfigureAwait(false);
                await FenceAsync(key, objectKey, published: true, ct).ConfigureAwait(false);
                return length;
            }
        }
        catch (Exception e) when (IsServiceFailure(e))
        {
            throw Failure("store", key, e);
        }
    }

    /// <summary>Tests only: runs between a PutObject and the look for the job's end marker, to put a clean-up's steps there.</summary>
    internal Func<string, Task>? AfterPut { get; set; }

    /// <summary>
    /// The fence (<see cref="JobFence"/>), after the PutObject: a blob in the folder of a job whose
    /// end marker is stored is deleted again (when this write <paramref name="published"/> it) and
    /// refused with <see cref="JobEndedException"/>. When the marker cannot be looked up, the blob
    /// is deleted too (best effort) before the failure goes on: a put that fails leaves nothing a
    /// clean-up already past might miss.
    /// </summary>
    private async Task FenceAsync(string key, string objectKey, bool published, CancellationToken ct)
    {
        if (JobFence.MarkerOf(key) is not { } marker) return;
        bool ended;
        try
        {
            ended = await HeadAsync(_options.ObjectKey(marker), ct).ConfigureAwait(false) is { Whole: true };
        }
        catch when (published)
        {
            try { await _s3.DeleteObjectAsync(_options.Bucket, objectKey, CancellationToken.None).ConfigureAwait(false); }
            catch (Exception e) when (IsServiceFailure(e)) { }
            throw;
        }
        if (!ended) return;
        if (published) await _s3.DeleteObjectAsync(_options.Bucket, objectKey, CancellationToken.None).ConfigureAwait(false);
        throw new JobEndedException(JobFence.JobOf(key)!, key);
    }

    /// <summary>
    /// A conditional PutObject refused: the key changed since it was looked up (412; 404 when the
    /// object an If-Match named is gone), or another write of it was under way (409).
    /// </summary>
    private static bool LostRace(AmazonS3Exception e) =>
        e.StatusCode == HttpStatusCode.PreconditionFailed
        || e is { StatusCode: HttpStatusCode.Conflict, ErrorCode: "ConditionalRequestConflict" }
        || e is { StatusCode: HttpStatusCode.NotFound, ErrorCode: "NoSuchKey" };

    /// <summary>What is at an object key: its length, ETag and recorded hash, and whether it is a whole blob (the one lookup of a key, HeadObject).</summary>
    private sealed record ExistingObject(long Length, string ETag, string? Sha256, bool Whole);

    private async Task<ExistingObject?> HeadAsync(string objectKey, CancellationToken ct)
    {
        try
        {
            var head = await _s3.GetObjectMetadataAsync(_options.Bucket, objectKey, ct).ConfigureAwait(false);
            return new ExistingObject(head.ContentLength, head.ETag, head.Metadata[Sha256Metadata], Incomplete(head.Metadata, head.ContentLength) is null);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether the whole blob at the key has the bytes of a put of <paramref name="length"/> bytes
    /// hashing to <paramref name="sha256"/>: by the hash its writer recorded, or, for an object
    /// written without one, by hashing its bytes.
    /// </summary>
    private async Task<bool> SameBytesAsync(ExistingObject existing, string key, long length, string sha256, CancellationToken ct)
    {
        if (existing.Length != length) return false;
        if (existing.Sha256 is { } recorded) return recorded == sha256;
        var stored = await OpenReadAsync(key, ct).ConfigureAwait(false);
        if (stored is null) return false;
        await using (stored.ConfigureAwait(false))
            return stored.Length == length && await HashAsync(stored.Content, ct).ConfigureAwait(false) == sha256;
    }

    /// <summary>The SHA-256 (lowercase hex) of a stream's bytes from its position; a seekable stream is put back where it was.</summary>
    private static async Task<string> HashAsync(Stream stream, CancellationToken ct)
    {
        var start = stream.CanSeek ? stream.Position : 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(HashBufferSize);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(0, HashBufferSize), ct).ConfigureAwait(false)) > 0)
                hash.AppendData(buffer, 0, read);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (stream.CanSeek) stream.Position = start;
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Copies exactly <paramref name="length"/> bytes into a temp file (deleted on dispose), hashing them on the way.</summary>
    private static async Task<(FileStream File, string Sha256)> SpoolAsync(Stream data, long length, CancellationToken ct)
    {
        var spool = new FileStream(Path.Combine(Path.GetTempPath(), "mapreduce-s3-" + Guid.NewGuid().ToString("N")), FileMode.CreateNew,
            FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        var buffer = ArrayPool<byte>.Shared.Rent(HashBufferSize);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var source = new ExactLengthStream(data, length);
            int read;
            while ((read = await source.ReadAtLeastAsync(buffer.AsMemory(0, HashBufferSize), HashBufferSize, throwOnEndOfStream: false, ct).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await spool.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            }
            spool.Position = 0;
            return (spool, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        catch
        {
            await spool.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public Task<StoredBlob?> OpenReadAsync(string key, CancellationToken ct = default) => OpenReadAsync(key, 0, null, ct);

    public async Task<StoredBlob?> OpenReadAsync(string key, long offset, long? length, CancellationToken ct = default)
    {
        var objectKey = _options.ObjectKey(key);
        try
        {
            if (offset == 0 && length is null)
            {
                var response = await _s3.GetObjectAsync(_options.Bucket, objectKey, ct).ConfigureAwait(false);
                if (Incomplete(response.Metadata, response.ContentLength) is { } problem)
                {
                    response.Dispose();
                    throw new BlobStoreException($"{key} in {Location} is incomplete: {problem}");
                }
                // Checked against the SHA-256 its writer recorded (an object from before that record is read unverified).
                return response.Metadata[Sha256Metadata] is { Length: > 0 } sha256
                    ? new StoredBlob(new ChecksumReadStream(response.ResponseStream, new BlobChecksum(BlobChecksum.Sha256Name, sha256, response.ContentLength), key), response.ContentLength)
                    : new StoredBlob(response.ResponseStream, response.ContentLength);
            }
            // A range: the object's recorded length says whether it is whole, and where the range ends.
            if (await HeadAsync(objectKey, ct).ConfigureAwait(false) is not { } head) return null;
            if (!head.Whole) throw new BlobStoreException($"{key} in {Location} is incomplete: its writer died mid-upload");
            var (start, count) = BlobRange.Clamp(offset, length, head.Length);
            if (count == 0) return new StoredBlob(Stream.Null, 0);
            var ranged = await _s3.GetObjectAsync(new GetObjectRequest
            {
                BucketName = _options.Bucket, Key = objectKey, ByteRange = new ByteRange(start, start + count - 1),
            }, ct).ConfigureAwait(false);
            return new StoredBlob(new ExactLengthStream(ranged.ResponseStream, count, ownsSource: true), count);
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
        !long.TryParse(metadata[LengthMetadata], CultureInfo.InvariantCulture, out var expected)
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
                if (await HeadAsync(objectKey, ct).ConfigureAwait(false) is not { } head) continue;
                (blobs, bytes) = (blobs + 1, bytes + head.Length);
                present.Add(objectKey);
            }
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

    /// <summary>
    /// The service's error code and message, and the innermost message ("Connection refused" says
    /// more than the SDK's wrapper) unless it says nothing more (it is part of the message, or only
    /// the SDK's wrapper of the HTTP error response).
    /// </summary>
    private static string Reason(Exception e)
    {
        var message = e is AmazonS3Exception s3 && s3.ErrorCode is { Length: > 0 } code ? $"{code}: {e.Message}" : e.Message;
        while (e.InnerException is not null) e = e.InnerException;
        return message.Contains(e.Message, StringComparison.Ordinal) || e is HttpErrorResponseException ? message : $"{message} ({e.Message})";
    }

    /// <summary>How long one look at the bucket at start may take (not a setting: mapreduce.blob-store.start-patience bounds the whole check).</summary>
    private static readonly TimeSpan CheckAttemptTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Why a node cannot use the bucket, in one line that names it, its endpoint and what to set,
    /// or null when it can: one ListObjectsV2. Every node needs that permission (s3:ListBucket)
    /// anyway: without it, AWS answers the lookup of a missing key, which every put makes, with 403
    /// rather than 404. An endpoint that does not answer (a container still starting) is asked
    /// again every half second for up to <paramref name="patience"/>.
    /// </summary>
    public static async Task<string?> BucketProblemAsync(S3BlobStoreOptions options, TimeSpan patience, CancellationToken ct = default)
    {
        using var s3 = NewClient(options, config =>
        {
            config.MaxErrorRetry = 0;
            config.Timeout = CheckAttemptTimeout;
        });
        // Under a prefix no blob key has (no key segment starts with '.'): the answer is empty, so
        // it is cheap and never truncated (s3rver fails a truncated listing on OpenSSL 3).
        var request = new ListObjectsV2Request
        {
            BucketName = options.Bucket,
            Prefix = (options.Prefix.Length == 0 ? "" : options.Prefix + "/") + ".mapreduce-start-check",
            MaxKeys = 1,
        };
        var endpoint = options.ServiceUrl.Length == 0 ? $"AWS {options.Region}" : options.ServiceUrl;
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attempt.CancelAfter(CheckAttemptTimeout);
            try
            {
                await s3.ListObjectsV2Async(request, attempt.Token).ConfigureAwait(false);
                return null;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && NotAnswering(e))
            {
                if (Stopwatch.GetElapsedTime(started) >= patience)
                {
                    var why = e is OperationCanceledException ? $"no answer within {CheckAttemptTimeout.TotalSeconds:0} s" : Reason(e);
                    return $"cannot reach the S3 service at {endpoint} for bucket {options.Bucket} within {patience.TotalSeconds:0} s ({why}): " +
                        "check mapreduce.blob-store.service-url and that the service is running";
                }
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct).ConfigureAwait(false); // a new look, not a wait anyone sizes
            }
            catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchBucket" || (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode is null or "NotFound"))
            {
                return $"bucket {options.Bucket} does not exist at {endpoint}: create it, or set mapreduce.blob-store.bucket to an existing bucket";
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.Forbidden)
            {
                return $"{endpoint} refused to list bucket {options.Bucket} ({Reason(e)}): check mapreduce.blob-store.access-key and secret-key " +
                    "(or this machine's AWS credentials) and that they may list, read, write and delete in the bucket";
            }
            catch (Exception e) when (IsServiceFailure(e))
            {
                return $"cannot use bucket {options.Bucket} at {endpoint} ({Reason(e)}): check mapreduce.blob-store";
            }
        }
    }

    /// <summary>The endpoint did not answer (refused, unresolvable, timed out) or answered that it cannot serve yet (5xx).</summary>
    private static bool NotAnswering(Exception e) =>
        e is AmazonServiceException { StatusCode: >= HttpStatusCode.InternalServerError }
        || Chain(e).Any(x => x is HttpRequestException or System.Net.Sockets.SocketException or TimeoutException or OperationCanceledException);

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException) yield return x;
    }

    public void Dispose() => _s3.Dispose();

    /// <summary>
    /// The S3 client with one more step before a request is signed: a PutObject's body, which
    /// the SDK hashes anyway for the signature (SigV4 signs a seekable body's SHA-256), has that
    /// same hash recorded in its metadata (<see cref="Sha256Metadata"/>), so the body is read no
    /// more often than before. A body already hashed (spooled) has its hash given to the signer,
    /// which then reads it only to send it.
    /// </summary>
    private sealed class HashingS3Client : AmazonS3Client
    {
        public HashingS3Client(AWSCredentials credentials, AmazonS3Config config) : base(credentials, config) { }

        public HashingS3Client(AmazonS3Config config) : base(config) { }

        protected override void CustomizeRuntimePipeline(RuntimePipeline pipeline)
        {
            base.CustomizeRuntimePipeline(pipeline);
            pipeline.AddHandlerBefore<Signer>(new ContentHashHandler());
        }
    }

    private sealed class ContentHashHandler : PipelineHandler
    {
        public override void InvokeSync(IExecutionContext executionContext)
        {
            Record(executionContext.RequestContext.Request);
            base.InvokeSync(executionContext);
        }

        public override Task<T> InvokeAsync<T>(IExecutionContext executionContext)
        {
            Record(executionContext.RequestContext.Request);
            return base.InvokeAsync<T>(executionContext);
        }

        private static void Record(IRequest request)
        {
            if (request.OriginalRequest is not PutObjectRequest || request.ContentStream is null) return;
            if (request.Headers.TryGetValue(Sha256Metadata, out var known)) request.PrecomputedContentSha256 = known;
            // The SDK caches the hash: the signer uses it without reading the body again.
            else if (request.ComputeContentStreamHash() is { } hash) request.Headers[Sha256Metadata] = hash;
        }
    }
}
