using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Akka.Actor;
using Akka.Event;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Blobs;
using static MapReduce.Actors.Protocol.KvStoreProtocol;

namespace MapReduce.Actors.BlobClients;

/// <summary>A kvstore request that failed; the message is the kvstore's own reason (<see cref="KvStoreUnreachableException"/>: it could not be reached).</summary>
public class KvStoreException(string message) : Exception(message);

/// <summary>A put found the key holding other bytes: blobs are written once (the first writer's bytes stay).</summary>
public sealed class KvStoreConflictException(string message) : KvStoreException(message);

/// <summary>
/// Reads and writes blobs in the cluster's kvstore from any node. Blob bytes stream over the
/// kvstore's HTTP data channel (<see cref="BlobHttpServer"/>); registering datasets and code are
/// Akka asks to the kvstore actor.
/// </summary>
/// <remarks>
/// Short circuit: a client on the kvstore's own machine (every process in local mode) reads and
/// writes the blob files directly, with the store's own temp-and-rename protocol, as HDFS clients
/// read local blocks and Spark reads host-local shuffle blocks from disk. The kvstore then spends
/// no CPU on those bytes, and a whole input file is copied by the kernel. The client uses the
/// folder only after finding in it the id the kvstore advertised, and falls back to HTTP for good
/// if the folder refuses access. <c>mapreduce.kvstore.short-circuit = off</c> turns it off.
/// </remarks>
/// <param name="token">The cluster token the data channel asks for (sent as a bearer token); null: none.</param>
/// <param name="serverCheck">How the data channel's HTTPS certificate is judged (null: the machine's trusted roots).</param>
/// <param name="timeouts">How long a lookup of the kvstore and a stalled transfer may take (mapreduce.kvstore.locate-timeout, idle-timeout); null: hocon/mapreduce.hocon's.</param>
public sealed class BlobClient(IDataChannel locator, Action<string> log, bool shortCircuit = true, string? token = null, ServerCertificateCheck? serverCheck = null,
    KvStoreClientSettings? timeouts = null) : IBlobClient
{
    private readonly TimeSpan _locateTimeout = (timeouts ?? MapReduceSettings.Defaults.KvStoreClient).LocateTimeout;
    /// <summary>A transfer with no progress for this long fails; a long one that keeps moving never does.</summary>
    private readonly TimeSpan _idleLimit = (timeouts ?? MapReduceSettings.Defaults.KvStoreClient).IdleTimeout;
    private const int PieceSize = 1 << 20;

    private readonly ServerCertificateCheck _serverCheck = serverCheck ?? ServerCertificateCheck.SystemRoots;

    /// <summary>Pooled keep-alive connections, enough of them for parallel task downloads (one client per process and role).</summary>
    private readonly HttpClient _http = new((serverCheck ?? ServerCertificateCheck.SystemRoots).Handler(handler =>
    {
        handler.AutomaticDecompression = DecompressionMethods.None;
        handler.MaxConnectionsPerServer = 64;
        // Connection tuning, not a wait an operator sizes: a refused or slow connect is retried by the
        // callers (WaitingBlobClient) like any unreachable kvstore; idle pooled connections are closed after a minute.
        handler.ConnectTimeout = TimeSpan.FromSeconds(10);
        handler.PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60);
    }))
    {
        // Per-transfer idle timeouts instead: a whole-request limit would cut off a large blob.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private volatile bool _shortCircuit = shortCircuit;
    private int _announced;

    /// <summary>Whether blob bytes move as files on this machine rather than over the data channel.</summary>
    public async Task<bool> IsShortCircuitAsync(CancellationToken ct = default) => await LocalStoreAsync(ct).ConfigureAwait(false) is not null;

    /// <summary>Logs once per process how blob bytes travel, so a node's log tells.</summary>
    private void Announce(string how)
    {
        if (Interlocked.Exchange(ref _announced, 1) == 0) log($"blob bytes {how}");
    }

    private async Task<LocalBlobStore?> LocalStoreAsync(CancellationToken ct) =>
        _shortCircuit ? await locator.ResolveLocalStoreAsync(_locateTimeout, ct).ConfigureAwait(false) : null;

    /// <summary>
    /// Runs <paramref name="local"/> on the kvstore's folder when this process may, else
    /// <paramref name="remote"/> over HTTP. A missing file is a missing blob only for a read; for a
    /// write it is the source file, and its own message says which.
    /// </summary>
    private async Task<T> ShortCircuitOrAsync<T>(string key, bool read, Func<LocalBlobStore, T> local, Func<Task<T>> remote, CancellationToken ct)
    {
        if (await LocalStoreAsync(ct).ConfigureAwait(false) is { } store)
        {
            Announce($"are read and written directly in the kvstore's folder {store.Root} (short circuit)");
            try
            {
                return await Task.Run(() => local(store), ct).ConfigureAwait(false);
            }
            catch (InvalidBlobKeyException e)
            {
                throw new KvStoreException(e.Message);
            }
            catch (BlobConflictException e)
            {
                throw new KvStoreConflictException(e.Message);
            }
            catch (JobEndedException e)
            {
                throw new KvStoreJobEndedException(e.Message);
            }
            // A write that found the kvstore's disk full (a read that does writes this node's own disk).
            catch (IOException e) when (!read && DiskFull.Is(e))
            {
                throw new KvStoreDiskFullException(KvStoreDiskFullException.Describe(key, store.Location));
            }
            catch (Exception e) when (read && e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new KvStoreException($"blob {key} does not exist in the kvstore");
            }
            catch (UnauthorizedAccessException e)
            {
                _shortCircuit = false;
                log($"cannot use the kvstore's folder {store.Root} directly ({e.Message}); blobs go over its data channel from now on");
            }
        }
        Announce("go over the kvstore's data channel");
        return await remote().ConfigureAwait(false);
    }

    public Task<long> PutAsync(string key, byte[] data, CancellationToken ct = default) =>
        ShortCircuitOrAsync(key, read: false, store => store.Put(key, data), async () =>
        {
            using var body = new MemoryStream(data, writable: false);
            return await PutStreamAsync(key, body, data.Length, ct).ConfigureAwait(false);
        }, ct);

    public Task<long> PutFileAsync(string key, string path, CancellationToken ct = default) =>
        PutFileRangeAsync(key, path, 0, new FileInfo(path).Length, ct);

    public Task<long> PutOwnedFileAsync(string key, string path, CancellationToken ct = default) =>
        ShortCircuitOrAsync(key, read: false, store => store.PutOwnedFile(key, path),
            () => PutFileRangeOverHttpAsync(key, path, 0, new FileInfo(path).Length, ct), ct);

    /// <summary>
    /// Stores <paramref name="length"/> bytes of a file from <paramref name="offset"/> (a chunk of an
    /// input file). Short-circuited, a whole file is copied by the kernel; a file that changed
    /// meanwhile fails with <see cref="SourceChangedException"/>.
    /// </summary>
    public Task<long> PutFileRangeAsync(string key, string path, long offset, long length, CancellationToken ct = default) =>
        ShortCircuitOrAsync(key, read: false, store => store.PutFileRange(key, path, offset, length),
            () => PutFileRangeOverHttpAsync(key, path, offset, length, ct), ct);

    private async Task<long> PutFileRangeOverHttpAsync(string key, string path, long offset, long length, CancellationToken ct)
    {
        // Unbuffered: UploadContent reads 1 MiB pieces into a pooled buffer.
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0,
            FileOptions.Asynchronous | FileOptions.SequentialScan);
        if (file.Length < offset + length) throw new SourceChangedException(path, offset, length, Math.Max(0, file.Length - offset));
        file.Position = offset;
        return await PutStreamAsync(key, file, length, ct).ConfigureAwait(false);
    }

    private Task<long> PutStreamAsync(string key, Stream body, long length, CancellationToken ct) =>
        TransferAsync(key, async (url, idle) =>
        {
            using var request = Request(HttpMethod.Put, url);
            request.Content = new UploadContent(body, length, idle);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
            await EnsureSuccessAsync(response, key, url, idle.Token).ConfigureAwait(false);
            return long.Parse(await response.Content.ReadAsStringAsync(idle.Token).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }, ct);

    public async Task<byte[]> GetBytesAsync(string key, CancellationToken ct = default) =>
        (await ReadAsync(key, length => new byte[length], ct).ConfigureAwait(false)).Buffer;

    /// <summary>A blob's bytes in a pooled buffer, to be disposed once used (a map task's chunks).</summary>
    public async Task<RentedBlob> GetRentedAsync(string key, CancellationToken ct = default)
    {
        var (buffer, length) = await ReadAsync(key, ArrayPool<byte>.Shared.Rent, ct).ConfigureAwait(false);
        return new RentedBlob(buffer, length);
    }

    /// <summary>Reads a whole blob into a buffer from <paramref name="allocate"/> (at least the blob's length).</summary>
    private Task<(byte[] Buffer, int Length)> ReadAsync(string key, Func<int, byte[]> allocate, CancellationToken ct) =>
        ShortCircuitOrAsync(key, read: true, store =>
        {
            using var file = store.OpenRead(key) ?? throw new FileNotFoundException(key);
            var length = CheckedLength(file.Length, key);
            var buffer = allocate(length);
            file.ReadExactly(buffer, 0, length);
            return (buffer, length);
        }, () => ReadOverHttpAsync(key, allocate, ct), ct);

    private static int CheckedLength(long length, string key) =>
        length <= Array.MaxLength ? (int)length : throw new KvStoreException($"blob {key} has {length} bytes, too many to hold in memory");

    private Task<(byte[] Buffer, int Length)> ReadOverHttpAsync(string key, Func<int, byte[]> allocate, CancellationToken ct) =>
        TransferAsync(key, async (url, idle) =>
        {
            using var request = Request(HttpMethod.Get, url);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
            await EnsureSuccessAsync(response, key, url, idle.Token).ConfigureAwait(false);
            var length = CheckedLength(ExpectedLength(response, key), key);
            var data = allocate(length);
            await using var body = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
            var filled = 0;
            int read;
            while (filled < length && (read = await body.ReadAsync(data.AsMemory(filled, length - filled), idle.Token).ConfigureAwait(false)) > 0)
            {
                filled += read;
                idle.Touch();
            }
            if (filled < length) throw CutShort(key, filled, length);
            StoredChecksum(response)?.Check(BlobChecksum.Of(data.AsSpan(0, length)), key);
            return (data, length);
        }, ct);

    public Task<StoredBlob> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default) =>
        ShortCircuitOrAsync(key, read: true,
            store => store.OpenReadAsync(key, offset, length, ct).GetAwaiter().GetResult() ?? throw new FileNotFoundException(key),
            () => OpenOverHttpAsync(key, offset, length, ct), ct);

    private Task<StoredBlob> OpenOverHttpAsync(string key, long offset, long? length, CancellationToken ct) =>
        TransferAsync(key, async (url, idle) =>
        {
            if (length == 0) return new StoredBlob(Stream.Null, 0);
            var request = Request(HttpMethod.Get, url);
            var ranged = offset > 0 || length is not null;
            if (ranged) request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(offset, length is { } n ? offset + n - 1 : null);
            HttpResponseMessage? response = null;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
                await EnsureSuccessAsync(response, key, url, idle.Token).ConfigureAwait(false);
                if (ranged && response.StatusCode != HttpStatusCode.PartialContent)
                    throw new KvStoreException($"the kvstore at {url.GetLeftPart(UriPartial.Authority)} does not serve byte ranges (answered {(int)response.StatusCode} to a range of {key})");
                var bytes = ExpectedLength(response, key);
                var body = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
                var checksum = ranged ? null : StoredChecksum(response);
                Stream stream = new RemoteBlobStream(response, body, key, bytes, _idleLimit);
                response = null; // the stream owns it now
                if (checksum is not null) stream = new ChecksumReadStream(stream, checksum, key);
                return new StoredBlob(stream, bytes);
            }
            finally
            {
                response?.Dispose();
                request.Dispose();
            }
        }, ct);

    /// <summary>Downloads a blob into a file (written to a temp name and renamed, so a crash never leaves half a file).</summary>
    public Task<long> GetToFileAsync(string key, string path, CancellationToken ct = default) =>
        ShortCircuitOrAsync(key, read: true, store => CopyOut(store, key, path), () => GetToFileOverHttpAsync(key, path, ct), ct);

    private static long CopyOut(LocalBlobStore store, string key, string path)
    {
        var temp = path + ".part";
        try
        {
            File.Copy(store.PathOf(key), temp, overwrite: true);
            // The copy is checked, not the blob: what is in the file is what was stored.
            store.ChecksumOf(key)?.Check(BlobChecksum.OfFile(temp), key);
            File.Move(temp, path, overwrite: true);
            return new FileInfo(path).Length;
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    private Task<long> GetToFileOverHttpAsync(string key, string path, CancellationToken ct) =>
        TransferAsync(key, async (url, idle) =>
        {
            using var request = Request(HttpMethod.Get, url);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
            await EnsureSuccessAsync(response, key, url, idle.Token).ConfigureAwait(false);
            var length = ExpectedLength(response, key);
            var temp = path + ".part";
            try
            {
                long copied = 0;
                var checksum = StoredChecksum(response);
                await using (var received = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false))
                await using (var body = checksum is null ? received : new ChecksumReadStream(received, checksum, key))
                await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous))
                {
                    // Filled to 1 MiB before each write: few large disk writes from one pooled buffer.
                    var buffer = ArrayPool<byte>.Shared.Rent(PieceSize);
                    try
                    {
                        int read;
                        while ((read = await body.ReadAtLeastAsync(buffer.AsMemory(0, PieceSize), PieceSize, throwOnEndOfStream: false, idle.Token).ConfigureAwait(false)) > 0)
                        {
                            await file.WriteAsync(buffer.AsMemory(0, read), idle.Token).ConfigureAwait(false);
                            copied += read;
                            idle.Touch();
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
                if (copied != length) throw CutShort(key, copied, length);
                File.Move(temp, path, overwrite: true);
                return copied;
            }
            catch
            {
                try { File.Delete(temp); } catch (IOException) { }
                throw;
            }
        }, ct);

    /// <summary>
    /// Runs one HTTP transfer against the kvstore's data channel and turns transport failures into
    /// <see cref="KvStoreException"/>s. A kvstore that cannot be reached is forgotten, so the next
    /// request finds it again (it may have restarted on another port or node).
    /// </summary>
    private async Task<T> TransferAsync<T>(string key, Func<Uri, IdleTimeout, Task<T>> transfer, CancellationToken ct)
    {
        var endpoint = await locator.ResolveDataUrlAsync(_locateTimeout, ct).ConfigureAwait(false);
        var url = new Uri(endpoint, "blobs/" + Uri.EscapeDataString(key));
        using var idle = new IdleTimeout(_idleLimit, ct);
        try
        {
            return await transfer(url, idle).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is AuthenticationException)
        {
            throw Forget(new KvStoreException(_serverCheck.Describe(e, endpoint.ToString())));
        }
        catch (HttpRequestException e)
        {
            throw Forget(new KvStoreUnreachableException($"kvstore at {endpoint} is unreachable: {Reason(e)}"));
        }
        catch (IOException e) when (e is HttpIOException || e.InnerException is SocketException)
        {
            // The connection broke in the middle of the body.
            throw Forget(new KvStoreUnreachableException($"transfer of {key} with the kvstore at {endpoint} failed: {Reason(e)}"));
        }
        catch (OperationCanceledException) when (idle.Expired)
        {
            throw Forget(new KvStoreUnreachableException($"kvstore at {endpoint} made no progress on {key} for {idle.Limit.TotalSeconds:0} s"));
        }
    }

    private HttpRequestMessage Request(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url);
        if (token is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private KvStoreException Forget(KvStoreException e)
    {
        locator.Invalidate();
        log($"{e.Message}; looking for the kvstore again");
        return e;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string key, Uri url, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        if (response.StatusCode == HttpStatusCode.NotFound) throw new KvStoreException($"blob {key} does not exist in the kvstore");
        if (response.Headers.TryGetValues(DataChannelHeaders.Corrupt, out var corrupt)) throw new BlobCorruptException(key, corrupt.FirstOrDefault() ?? "");
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Conflict && text.Length > 0) throw new KvStoreConflictException(text);
        if (response.StatusCode == HttpStatusCode.Gone && text.Length > 0) throw new KvStoreJobEndedException(text);
        if (response.StatusCode == HttpStatusCode.BadRequest && text.Length > 0) throw new KvStoreException(text);
        if (response.StatusCode == HttpStatusCode.InsufficientStorage) throw new KvStoreDiskFullException(text.Length > 0 ? text : KvStoreDiskFullException.Describe(key, url.GetLeftPart(UriPartial.Authority)));
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            throw new KvStoreException($"the kvstore's data channel at {url.GetLeftPart(UriPartial.Authority)} refused the request: {ApiModels.ErrorText(text)}");
        throw new KvStoreException($"kvstore answered {(int)response.StatusCode} {response.ReasonPhrase} for {url}: {text}");
    }

    /// <summary>The checksum the data channel sent with a whole blob (<see cref="DataChannelHeaders.Checksum"/>), or null.</summary>
    private static BlobChecksum? StoredChecksum(HttpResponseMessage response) =>
        response.Headers.TryGetValues(DataChannelHeaders.Checksum, out var values) ? BlobChecksum.Parse(values.FirstOrDefault()) : null;

    private static long ExpectedLength(HttpResponseMessage response, string key) =>
        response.Content.Headers.ContentLength ?? throw new KvStoreException($"kvstore sent {key} without a length");

    private static KvStoreException CutShort(string key, long received, long expected) =>
        new($"download of {key} was cut short: {received} of {expected} bytes");

    /// <summary>The innermost message: "Connection refused" says more than "An error occurred while sending the request".</summary>
    private static string Reason(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message;
    }
}
