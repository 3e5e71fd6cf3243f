using System.Buffers;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Metrics;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Blobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace MapReduce.Actors.KvStore;

/// <summary>
/// The kvstore's data channel: blob bytes over HTTP (Kestrel; HTTPS on a TLS cluster), next to the Akka messages that
/// carry control. Remoting moves large payloads slowly (small frames, one connection shared with
/// heartbeats), so bulk bytes go here, as in Spark's block transfer service or HDFS data transfer.
/// <c>PUT /blobs/{key}</c> streams the body into the blob store (a temp file renamed in the kvstore's
/// folder, or one PutObject in an object store), published only once every byte arrived (409
/// Conflict when the key holds other bytes: blobs are written once; 410 Gone when the key is in the
/// folder of a job that has ended, see <see cref="JobFence"/>); <c>GET /blobs/{key}</c>
/// streams the blob back with its length, and a whole blob with its checksum (<see cref="DataChannelHeaders.Checksum"/>),
/// which the client checks as the bytes arrive: corruption at rest or on the way is found by the reader.
/// </summary>
public sealed class BlobHttpServer : IAsyncDisposable
{
    private const string Prefix = "/blobs/";

    private const int CopyBufferSize = 1 << 20;

    private readonly HttpEndpoint _endpoint;

    private BlobHttpServer(HttpEndpoint endpoint) => _endpoint = endpoint;

    /// <summary>Where clients reach this server, e.g. http://127.0.0.1:41234/.</summary>
    public Uri BaseUrl => _endpoint.BaseUrl;

    /// <summary>Starts serving <paramref name="blobs"/> on <paramref name="host"/>; port 0 takes any free port.</summary>
    /// <param name="token">The cluster token every request must carry; null: none is asked.</param>
    /// <param name="certificate">The node's certificate: HTTPS; null: plain HTTP.</param>
    public static async Task<BlobHttpServer> StartAsync(IBlobStore blobs, string host, int port, string? token = null, X509Certificate2? certificate = null, CancellationToken ct = default)
    {
        // Nothing on the byte path but Kestrel and routing.
        var app = HttpEndpoint.CreateBuilder(host, port, certificate, kestrel => kestrel.Limits.MaxRequestBodySize = null).Build();
        RequestTiming.Use(app, NodeMetrics.KvStoreRequest);
        ClusterTokenCheck.Use(app, token, forPeople: false);
        app.MapPut(Prefix + "{**key}", context => PutAsync(context, blobs));
        app.MapGet(Prefix + "{**key}", context => GetAsync(context, blobs));
        // Transfers running at shutdown get 5 s to finish; a cut one is retried by its client (not a setting).
        return new BlobHttpServer(await HttpEndpoint.StartAsync(app, host, certificate is not null, TimeSpan.FromSeconds(5), ct).ConfigureAwait(false));
    }

    private static async Task PutAsync(HttpContext context, IBlobStore blobs)
    {
        var key = KeyOf(context);
        if (BlobKey.Problem(key) is { } problem)
        {
            await ReplyAsync(context, StatusCodes.Status400BadRequest, problem).ConfigureAwait(false);
            return;
        }
        if (context.Request.ContentLength is not { } expected)
        {
            await ReplyAsync(context, StatusCodes.Status411LengthRequired, $"upload of {key} needs a Content-Length").ConfigureAwait(false);
            return;
        }
        long length;
        try
        {
            // Kestrel ends the body early only with an exception (client gone, or fewer bytes than
            // Content-Length), and the store publishes the blob only once every byte arrived.
            length = await blobs.PutAsync(key!, context.Request.Body, expected, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (context.RequestAborted.IsCancellationRequested) return;
            if (e is BlobConflictException)
                await ReplyAsync(context, StatusCodes.Status409Conflict, e.Message).ConfigureAwait(false);
            else if (e is JobEndedException)
                await ReplyAsync(context, StatusCodes.Status410Gone, e.Message).ConfigureAwait(false);
            else if (e is BadHttpRequestException || e.InnerException is BadHttpRequestException)
                await ReplyAsync(context, StatusCodes.Status400BadRequest, $"upload of {key} was cut short: {e.Message}").ConfigureAwait(false);
            else if (DiskFull.Is(e))
                await ReplyAsync(context, StatusCodes.Status507InsufficientStorage, KvStoreDiskFullException.Describe(key!, blobs.Location)).ConfigureAwait(false);
            else if (e is IOException or UnauthorizedAccessException)
                await ReplyAsync(context, StatusCodes.Status500InternalServerError, $"cannot store {key}: {e.Message}").ConfigureAwait(false);
            else
                throw;
            return;
        }
        await ReplyAsync(context, StatusCodes.Status200OK, length.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
    }

    private static async Task GetAsync(HttpContext context, IBlobStore blobs)
    {
        var key = KeyOf(context);
        if (BlobKey.Problem(key) is { } problem)
        {
            await ReplyAsync(context, StatusCodes.Status400BadRequest, problem).ConfigureAwait(false);
            return;
        }
        var range = RequestedRange(context);
        if (range is { Problem: { } badRange })
        {
            await ReplyAsync(context, StatusCodes.Status416RangeNotSatisfiable, badRange).ConfigureAwait(false);
            return;
        }
        StoredBlob? blob;
        try
        {
            blob = range is { } r
                ? await blobs.OpenReadAsync(key!, r.Offset, r.Length, context.RequestAborted).ConfigureAwait(false)
                : await blobs.OpenReadAsync(key!, context.RequestAborted).ConfigureAwait(false);
        }
        catch (BlobCorruptException e)
        {
            // Said so, for the reader to tell a corrupt blob (its writer's task runs again) from a kvstore in trouble.
            context.Response.Headers[DataChannelHeaders.Corrupt] = e.Why;
            await ReplyAsync(context, StatusCodes.Status500InternalServerError, e.Message).ConfigureAwait(false);
            return;
        }
        catch (IOException e)
        {
            await ReplyAsync(context, StatusCodes.Status500InternalServerError, $"cannot read {key}: {e.Message}").ConfigureAwait(false);
            return;
        }
        if (blob is null)
        {
            await ReplyAsync(context, StatusCodes.Status404NotFound, $"blob {key} does not exist in the kvstore").ConfigureAwait(false);
            return;
        }
        await using (blob)
        {
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = blob.Length;
            if (range is { } served)
            {
                // The whole blob's length is not looked up: '*' says so (RFC 9110 14.4).
                context.Response.StatusCode = StatusCodes.Status206PartialContent;
                if (blob.Length > 0) context.Response.Headers.ContentRange = $"bytes {served.Offset}-{served.Offset + blob.Length - 1}/*";
            }
            var content = blob.Content;
            if (content is ChecksumReadStream checkedContent)
            {
                // Relayed as stored: the client checks, so what broke on the way is caught too.
                context.Response.Headers[DataChannelHeaders.Checksum] = checkedContent.Expected.ToString();
                content = checkedContent.Unchecked;
            }
            await CopyAsync(content, context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>One byte range ("bytes=FROM-" or "bytes=FROM-TO") the request asks for, or null for the whole blob.</summary>
    private static (long Offset, long? Length, string? Problem)? RequestedRange(HttpContext context)
    {
        if (!context.Request.Headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.Range)) return null;
        var header = context.Request.GetTypedHeaders().Range;
        if (header is not { Unit.Value: "bytes", Ranges.Count: 1 } || header.Ranges.First() is not { From: { } from } only || only.To < from)
            return (0, null, "only one byte range 'bytes=FROM-' or 'bytes=FROM-TO' is served");
        return (from, only.To is { } to ? to - from + 1 : null, null);
    }

    /// <summary>
    /// Copies in 1 MiB pieces through a pooled buffer: few large disk writes, and no 1 MiB
    /// FileStream buffer allocated (on the large object heap) per request.
    /// </summary>
    private static async Task CopyAsync(Stream source, Stream target, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            int read;
            while ((read = await source.ReadAtLeastAsync(buffer.AsMemory(0, CopyBufferSize), CopyBufferSize, throwOnEndOfStream: false, ct).ConfigureAwait(false)) > 0)
                await target.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The key as the client wrote it: taken from the raw target and unescaped once, since the
    /// client escapes the whole key ('/' as %2F) and Kestrel's decoded path would keep %2F as is.
    /// </summary>
    private static string? KeyOf(HttpContext context)
    {
        var raw = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var query = raw.IndexOf('?');
        if (query >= 0) raw = raw[..query];
        return raw.StartsWith(Prefix, StringComparison.Ordinal) ? Uri.UnescapeDataString(raw[Prefix.Length..]) : null;
    }

    private static Task ReplyAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }

    /// <summary>Stops accepting requests, lets running ones finish for a few seconds, and releases the port.</summary>
    public ValueTask DisposeAsync() => _endpoint.DisposeAsync();
}
