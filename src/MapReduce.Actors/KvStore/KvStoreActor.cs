using Akka.Actor;
using Akka.Event;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.IO;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.KvStore.KvStoreProtocol;

namespace MapReduce.Actors.KvStore;

/// <summary>
/// Serves the blob store of this node over the cluster and records datasets in the catalog.
/// Small blobs travel inline; large ones through StreamRefs, so no message exceeds a remoting frame.
/// A streamed write lands in a temp file and is renamed into place only after every byte arrived.
/// </summary>
public sealed class KvStoreActor : ReceiveActor
{
    private sealed record Upload(string Key, string TempPath, Task<IOResult> Written);

    private readonly LocalBlobStore _blobs;
    private readonly CatalogStore _catalog;
    private readonly Dictionary<string, Upload> _uploads = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IMaterializer _materializer = Context.Materializer();

    public KvStoreActor(LocalBlobStore blobs, CatalogStore catalog)
    {
        _blobs = blobs;
        _catalog = catalog;

        Receive<PutInline>(m => Reply(() =>
        {
            var length = _blobs.Put(m.Key, m.Data);
            return new BlobWritten(m.Key, length);
        }));
        Receive<OpenWrite>(OnOpenWrite);
        Receive<CommitWrite>(OnCommitWrite);
        Receive<Get>(OnGet);
        Receive<RegisterDataset>(m => Reply(() =>
        {
            var missing = m.Chunks.FirstOrDefault(c => !_blobs.Exists(c.ChunkKey));
            if (missing is not null) return new KvStoreFailure($"dataset {m.DirId}: chunk {missing.ChunkKey} was never stored");
            _catalog.RegisterDataset(
                new DatasetRow
                {
                    DirId = m.DirId, Kind = DatasetKind.Input, Source = m.Source, Documents = m.Documents,
                    Chunks = m.Chunks.Length, Bytes = m.Chunks.Sum(c => c.Bytes), CreatedAt = DateTime.UtcNow,
                },
                m.Chunks.Select(c => new ChunkRow { DirId = m.DirId, DocId = c.DocId, ChunkIndex = c.ChunkIndex, ChunkId = c.ChunkKey, Bytes = c.Bytes }).ToList());
            return new DatasetRegistered(m.DirId);
        }));
        Receive<RegisterCode>(m => Reply(() =>
        {
            if (!_blobs.Exists(m.BlobKey)) return new KvStoreFailure($"code {m.CodeId}: blob {m.BlobKey} was never stored");
            _catalog.RegisterCode(new CodeRow { CodeId = m.CodeId, BlobKey = m.BlobKey, Source = m.Source, CreatedAt = DateTime.UtcNow });
            return new CodeRegistered(m.CodeId);
        }));
    }

    public static Props Props(LocalBlobStore blobs, CatalogStore catalog) =>
        Akka.Actor.Props.Create(() => new KvStoreActor(blobs, catalog));

    private void OnOpenWrite(OpenWrite m)
    {
        if (BlobKey.Problem(m.Key) is { } problem)
        {
            Sender.Tell(new KvStoreFailure(problem));
            return;
        }
        var uploadId = Guid.NewGuid().ToString("N");
        var temp = _blobs.NewTempPath();
        var (sinkRef, written) = Materialize(temp);
        _uploads[uploadId] = new Upload(m.Key, temp, written);
        sinkRef.PipeTo(Sender, success: s => new WriteReady(uploadId, s), failure: e => new KvStoreFailure($"cannot open a write stream for {m.Key}: {e.Message}"));
    }

    private (Task<ISinkRef<ByteString>> SinkRef, Task<IOResult> Written) Materialize(string temp) =>
        StreamRefs.SinkRef<ByteString>()
            .ToMaterialized(FileIO.ToFile(new FileInfo(temp)), Keep.Both)
            .Run(_materializer);

    private void OnCommitWrite(CommitWrite m)
    {
        if (!_uploads.Remove(m.UploadId, out var upload))
        {
            Sender.Tell(new KvStoreFailure($"unknown upload {m.UploadId}"));
            return;
        }
        var blobs = _blobs;
        upload.Written.ContinueWith<object>(t =>
        {
            if (t.IsCompletedSuccessfully)
            {
                var length = blobs.Commit(upload.TempPath, upload.Key);
                return new BlobWritten(upload.Key, length);
            }
            blobs.Abort(upload.TempPath);
            var reason = t.Exception?.GetBaseException().Message ?? "cancelled";
            return new KvStoreFailure($"writing {upload.Key} failed: {reason}");
        }, TaskScheduler.Default).PipeTo(Sender);
    }

    private void OnGet(Get m)
    {
        if (BlobKey.Problem(m.Key) is { } problem)
        {
            Sender.Tell(new KvStoreFailure(problem));
            return;
        }
        var length = _blobs.LengthOf(m.Key);
        if (length is null)
        {
            Sender.Tell(new BlobMissing(m.Key));
            return;
        }
        if (length <= InlineLimit)
        {
            var data = _blobs.ReadAll(m.Key);
            Sender.Tell(data is null ? new BlobMissing(m.Key) : new InlineBlob(m.Key, data));
            return;
        }
        var path = _blobs.PathOf(m.Key);
        FileIO.FromFile(new FileInfo(path), 64 * 1024)
            .RunWith(StreamRefs.SourceRef<ByteString>(), _materializer)
            .PipeTo(Sender, success: s => new StreamedBlob(m.Key, length.Value, s), failure: e => new KvStoreFailure($"cannot read {m.Key}: {e.Message}"));
    }

    private void Reply(Func<object> action)
    {
        try
        {
            Sender.Tell(action());
        }
        catch (Exception e) when (e is InvalidBlobKeyException or IOException or UnauthorizedAccessException or LinqToDB.LinqToDBException or System.Data.Common.DbException)
        {
            _log.Warning("kvstore request failed: {0}", e.Message);
            Sender.Tell(new KvStoreFailure(e.Message));
        }
    }
}
