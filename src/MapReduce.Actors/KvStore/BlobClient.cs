using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using static MapReduce.Actors.KvStore.KvStoreProtocol;

namespace MapReduce.Actors.KvStore;

/// <summary>A kvstore request that failed; the message is the kvstore's own reason.</summary>
public sealed class KvStoreException(string message) : Exception(message);

/// <summary>
/// Reads and writes blobs in the cluster's kvstore from any node. Blob bytes stream over the
/// kvstore's HTTP data channel (<see cref="BlobHttpServer"/>); registering datasets and code are
/// Akka asks to the kvstore actor.
/// </summary>
public sealed class BlobClient(ActorSystem system, KvStoreLocator locator)
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan LocateTimeout = TimeSpan.FromSeconds(60);
    /// <summary>A transfer with no progress for this long fails; a long one that keeps moving never does.</summary>
    private static readonly TimeSpan IdleLimit = TimeSpan.FromSeconds(60);
    private const int PieceSize = 1 << 20;

    /// <summary>One client for the process: pooled keep-alive connections, enough of them for parallel task downloads.</summary>
    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        MaxConnectionsPerServer = 64,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
    })
    {
        // Per-transfer idle timeouts instead: a whole-request limit would cut off a large blob.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private Task<IActorRef> KvStoreAsync(CancellationToken ct = default) => locator.ResolveAsync(LocateTimeout, ct);

    /// <summary>Records stored code in the catalog (through the kvstore, which owns datasets and code).</summary>
    public async Task RegisterCodeAsync(RegisterCode code, CancellationToken ct = default)
    {
        var kv = await KvStoreAsync(ct).ConfigureAwait(false);
        Expect<CodeRegistered>(await kv.Ask<object>(code, RequestTimeout, ct).ConfigureAwait(false));
    }

    /// <summary>Records an uploaded dataset in the catalog once all its chunks are stored.</summary>
    public async Task RegisterDatasetAsync(RegisterDataset dataset, CancellationToken ct = default)
    {
        var kv = await KvStoreAsync(ct).ConfigureAwait(false);
        Expect<DatasetRegistered>(await kv.Ask<object>(dataset, RequestTimeout, ct).ConfigureAwait(false));
    }

    /// <summary>Downloads several blobs into files, at most <paramref name="parallelism"/> at a time.</summary>
    public async Task GetToFilesAsync(IReadOnlyList<(string Key, string Path)> downloads, int parallelism, CancellationToken ct = default)
    {
        using var limit = new SemaphoreSlim(parallelism);
        await Task.WhenAll(downloads.Select(async d =>
        {
            await limit.WaitAsync(ct).ConfigureAwait(false);
            try { await GetToFileAsync(d.Key, d.Path, ct).ConfigureAwait(false); }
            finally { limit.Release(); }
        })).ConfigureAwait(false);
    }

    public async Task<long> PutAsync(string key, byte[] data, CancellationToken ct = default)
    {
        using var body = new MemoryStream(data, writable: false);
        return await PutStreamAsync(key, body, ct).ConfigureAwait(false);
    }

    public async Task<long> PutFileAsync(string key, string path, CancellationToken ct = default)
    {
        // Unbuffered: UploadContent reads 1 MiB pieces into a pooled buffer.
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0,
            FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await PutStreamAsync(key, file, ct).ConfigureAwait(false);
    }

    private Task<long> PutStreamAsync(string key, Stream body, CancellationToken ct) =>
        TransferAsync(key, async (url, idle) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new UploadContent(body, idle) };
            using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
            await EnsureSuccessAsync(response, key, url, idle.Token).ConfigureAwait(false);
            return long.Parse(await response.Content.ReadAsStringAsync(idle.Token).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }, ct);

    public Task<byte[]> GetBytesAsync(string key, CancellationToken ct = default) =>
        TransferAsync(key, async (url, idle) =>
        {
            using var response = await Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
            await EnsureSuccessAsync(response, key, url, idle.Token).ConfigureAwait(false);
            var length = ExpectedLength(response, key);
            if (length > Array.MaxLength) throw new KvStoreException($"blob {key} has {length} bytes, too many to hold in memory");
            var data = new byte[length];
            await using var body = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
            var filled = 0;
            int read;
            while (filled < data.Length && (read = await body.ReadAsync(data.AsMemory(filled), idle.Token).ConfigureAwait(false)) > 0)
            {
                filled += read;
                idle.Touch();
            }
            if (filled < data.Length) throw CutShort(key, filled, length);
            return data;
        }, ct);

    /// <summary>Downloads a blob into a file (written to a temp name and renamed, so a crash never leaves half a file).</summary>
    public Task<long> GetToFileAsync(string key, string path, CancellationToken ct = default) =>
        TransferAsync(key, async (url, idle) =>
        {
            using var response = await Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
            await EnsureSuccessAsync(response, key, url, idle.Token).ConfigureAwait(false);
            var length = ExpectedLength(response, key);
            var temp = path + ".part";
            try
            {
                long copied = 0;
                await using (var body = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false))
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
        var endpoint = await locator.ResolveDataUrlAsync(LocateTimeout, ct).ConfigureAwait(false);
        var url = new Uri(endpoint, "blobs/" + Uri.EscapeDataString(key));
        using var idle = new IdleTimeout(IdleLimit, ct);
        try
        {
            return await transfer(url, idle).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw Forget(new KvStoreException($"kvstore at {endpoint} is unreachable: {Reason(e)}"));
        }
        catch (IOException e) when (e is HttpIOException || e.InnerException is SocketException)
        {
            // The connection broke in the middle of the body.
            throw Forget(new KvStoreException($"transfer of {key} with the kvstore at {endpoint} failed: {Reason(e)}"));
        }
        catch (OperationCanceledException) when (idle.Expired)
        {
            throw Forget(new KvStoreException($"kvstore at {endpoint} made no progress on {key} for {idle.Limit.TotalSeconds:0} s"));
        }
    }

    private KvStoreException Forget(KvStoreException e)
    {
        locator.Invalidate();
        system.Log.Warning("{0}; looking for the kvstore again", e.Message);
        return e;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string key, Uri url, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        if (response.StatusCode == HttpStatusCode.NotFound) throw new KvStoreException($"blob {key} does not exist in the kvstore");
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.BadRequest && text.Length > 0) throw new KvStoreException(text);
        throw new KvStoreException($"kvstore answered {(int)response.StatusCode} {response.ReasonPhrase} for {url}: {text}");
    }

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

    private static T Expect<T>(object reply) => reply is T t ? t : throw reply switch
    {
        KvStoreFailure f => new KvStoreException(f.Message),
        _ => new KvStoreException($"unexpected kvstore reply {reply.GetType().Name}"),
    };
}
