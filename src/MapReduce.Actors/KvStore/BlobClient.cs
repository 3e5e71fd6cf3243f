using Akka.Actor;
using Akka.IO;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using static MapReduce.Actors.KvStore.KvStoreProtocol;

namespace MapReduce.Actors.KvStore;

/// <summary>A kvstore request that failed; the message is the kvstore's own reason.</summary>
public sealed class KvStoreException(string message) : Exception(message);

/// <summary>
/// Reads and writes blobs in the cluster's kvstore from any node: inline for small payloads,
/// through StreamRefs for large ones.
/// </summary>
public sealed class BlobClient(ActorSystem system, KvStoreLocator locator)
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan LocateTimeout = TimeSpan.FromSeconds(60);
    private const int StreamElementSize = 64 * 1024;
    private readonly IMaterializer _materializer = system.Materializer();

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
        var kv = await KvStoreAsync(ct).ConfigureAwait(false);
        if (data.Length <= InlineLimit)
            return Expect<BlobWritten>(await kv.Ask<object>(new PutInline(key, data), RequestTimeout, ct).ConfigureAwait(false)).Length;
        var source = Source.From(Enumerable.Range(0, (data.Length + StreamElementSize - 1) / StreamElementSize)
            .Select(i => ByteString.CopyFrom(data, i * StreamElementSize, Math.Min(StreamElementSize, data.Length - i * StreamElementSize))));
        return await StreamUpAsync(kv, key, source, ct).ConfigureAwait(false);
    }

    public async Task<long> PutFileAsync(string key, string path, CancellationToken ct = default)
    {
        var length = new FileInfo(path).Length;
        if (length <= InlineLimit) return await PutAsync(key, await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
        var kv = await KvStoreAsync(ct).ConfigureAwait(false);
        return await StreamUpAsync(kv, key, FileIO.FromFile(new FileInfo(path), StreamElementSize).MapMaterializedValue(_ => NotUsed.Instance), ct).ConfigureAwait(false);
    }

    private async Task<long> StreamUpAsync(IActorRef kv, string key, Source<ByteString, NotUsed> source, CancellationToken ct)
    {
        var ready = Expect<WriteReady>(await kv.Ask<object>(new OpenWrite(key), RequestTimeout, ct).ConfigureAwait(false));
        await source.RunWith(ready.Sink.Sink.MapMaterializedValue(_ => Task.CompletedTask), _materializer).ConfigureAwait(false);
        return Expect<BlobWritten>(await kv.Ask<object>(new CommitWrite(ready.UploadId), RequestTimeout, ct).ConfigureAwait(false)).Length;
    }

    public async Task<byte[]> GetBytesAsync(string key, CancellationToken ct = default)
    {
        var kv = await KvStoreAsync(ct).ConfigureAwait(false);
        var reply = await kv.Ask<object>(new Get(key), RequestTimeout, ct).ConfigureAwait(false);
        switch (reply)
        {
            case InlineBlob inline:
                return inline.Data;
            case StreamedBlob streamed:
                using (var buffer = new MemoryStream((int)streamed.Length))
                {
                    await streamed.Source.Source.RunForeach(b => b.WriteTo(buffer), _materializer).ConfigureAwait(false);
                    return buffer.ToArray();
                }
            default:
                throw Failure(reply, key);
        }
    }

    /// <summary>Downloads a blob into a file (written to a temp name and renamed, so a crash never leaves half a file).</summary>
    public async Task<long> GetToFileAsync(string key, string path, CancellationToken ct = default)
    {
        var kv = await KvStoreAsync(ct).ConfigureAwait(false);
        var reply = await kv.Ask<object>(new Get(key), RequestTimeout, ct).ConfigureAwait(false);
        var temp = path + ".part";
        try
        {
            switch (reply)
            {
                case InlineBlob inline:
                    await File.WriteAllBytesAsync(temp, inline.Data, ct).ConfigureAwait(false);
                    break;
                case StreamedBlob streamed:
                    var result = await streamed.Source.Source.RunWith(FileIO.ToFile(new FileInfo(temp)), _materializer).ConfigureAwait(false);
                    if (result.Count != streamed.Length)
                        throw new KvStoreException($"download of {key} was cut short: {result.Count} of {streamed.Length} bytes");
                    break;
                default:
                    throw Failure(reply, key);
            }
            File.Move(temp, path, overwrite: true);
            return new FileInfo(path).Length;
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    private static T Expect<T>(object reply) => reply is T t ? t : throw Failure(reply, null);

    private static Exception Failure(object reply, string? key) => reply switch
    {
        BlobMissing m => new KvStoreException($"blob {m.Key} does not exist in the kvstore"),
        KvStoreFailure f => new KvStoreException(f.Message),
        _ => new KvStoreException($"unexpected kvstore reply {reply.GetType().Name}{(key is null ? "" : $" for {key}")}"),
    };
}
