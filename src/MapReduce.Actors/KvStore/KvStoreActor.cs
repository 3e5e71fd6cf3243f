using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using MapReduce.Actors.Master;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.KvStore.KvStoreProtocol;

namespace MapReduce.Actors.KvStore;

/// <summary>
/// The kvstore's control side: tells where its data channel is (blob bytes move over HTTP, see
/// <see cref="BlobHttpServer"/>) and where its folder is (a process on this machine reads and writes
/// it directly, see <see cref="BlobClient"/>), sweeps temp files their writers abandoned, records
/// datasets (from their manifest blobs) and code in the catalog once their blobs are stored, and deletes what the master says is no longer needed.
/// </summary>
public sealed class KvStoreActor : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(10);
    /// <summary>A temp file untouched this long was left by a writer that died; live transfers write every few milliseconds.</summary>
    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromHours(1);

    private sealed record SweepIncoming;

    private readonly LocalBlobStore _blobs;
    private readonly CatalogStore _catalog;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public KvStoreActor(LocalBlobStore blobs, CatalogStore catalog, string dataUrl)
    {
        _blobs = blobs;
        _catalog = catalog;

        Receive<SweepIncoming>(_ =>
        {
            try
            {
                var deleted = _blobs.SweepAbandoned(AbandonedAfter);
                if (deleted > 0) _log.Info("deleted {0} temp files abandoned by writers that died", deleted);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Warning("sweeping abandoned temp files failed: {0}", e.Message);
            }
        });
        Receive<GetDataEndpoint>(_ => Sender.Tell(new DataEndpoint(dataUrl, _blobs.Root, _blobs.StoreId)));
        Receive<RegisterDataset>(m => Reply(() => Register(m)));
        Receive<RemoveDataset>(m => Reply(() =>
        {
            // Catalog first: once the rows are gone no job can name the dataset. A crash before the
            // files go leaves files nobody refers to, never a dataset with chunks missing.
            if (_catalog.DeleteDataset(m.DirId) is not { Dataset: var dataset, Chunks: var chunks }) return new KvStoreFailure($"dataset '{m.DirId}' is not in the store");
            var (blobs, bytes) = _blobs.DeleteAll(chunks.Select(c => c.ChunkId));
            // The manifest last: it shares the chunks' folder, which goes once it is empty. A job's
            // result has none, nor has an upload from before manifests (a missing blob is skipped).
            if (dataset.Kind == DatasetKind.Input) _blobs.DeleteAll([BlobKeys.Manifest(m.DirId)]);
            _log.Info("deleted dataset {0}: {1} of its {2} chunks were stored, {3} bytes", m.DirId, blobs, chunks.Count, bytes);
            return new DatasetRemoved(m.DirId, chunks.Count, bytes);
        }));
        Receive<RemoveFolders>(m => Reply(() => new FoldersRemoved(m.Prefixes.Sum(_blobs.DeleteFolder))));
        Receive<RegisterCode>(m => Reply(() =>
        {
            if (!_blobs.Exists(m.BlobKey)) return new KvStoreFailure($"code {m.CodeId}: blob {m.BlobKey} was never stored");
            _catalog.RegisterCode(new CodeRow { CodeId = m.CodeId, BlobKey = m.BlobKey, Source = m.Source, CreatedAt = DateTime.UtcNow });
            return new CodeRegistered(m.CodeId);
        }));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart() => Timers.StartPeriodicTimer("sweep-incoming", new SweepIncoming(), SweepEvery);

    public static Props Props(LocalBlobStore blobs, CatalogStore catalog, string dataUrl) =>
        Akka.Actor.Props.Create(() => new KvStoreActor(blobs, catalog, dataUrl));

    /// <summary>
    /// Reads the dataset's manifest and records the dataset and its chunk rows in one transaction,
    /// once every chunk the manifest lists is stored.
    /// </summary>
    private object Register(RegisterDataset m)
    {
        var expectedKey = BlobKeys.Manifest(m.DirId);
        if (m.ManifestKey != expectedKey)
            return new KvStoreFailure($"dataset {m.DirId}: its manifest must be stored as {expectedKey}, not {m.ManifestKey}");
        DatasetManifest manifest;
        using (var json = _blobs.OpenRead(m.ManifestKey))
        {
            if (json is null) return new KvStoreFailure($"dataset {m.DirId}: manifest {m.ManifestKey} was never stored");
            try
            {
                manifest = DatasetManifest.Parse(json);
            }
            catch (JsonException e)
            {
                return new KvStoreFailure($"dataset {m.DirId}: manifest {m.ManifestKey} is not valid JSON: {e.Message}");
            }
        }
        if (manifest.DirId != m.DirId)
            return new KvStoreFailure($"dataset {m.DirId}: manifest {m.ManifestKey} lists the chunks of dataset {manifest.DirId}");
        var missing = manifest.Chunks.FirstOrDefault(c => !_blobs.Exists(c.ChunkKey));
        if (missing is not null) return new KvStoreFailure($"dataset {m.DirId}: chunk {missing.ChunkKey} was never stored");
        _catalog.RegisterDataset(
            new DatasetRow
            {
                DirId = m.DirId, Kind = DatasetKind.Input, Source = m.Source, Documents = m.Documents,
                Chunks = manifest.Chunks.Length, Bytes = manifest.Chunks.Sum(c => c.Bytes), CreatedAt = DateTime.UtcNow,
            },
            manifest.Chunks.Select(c => new ChunkRow { DirId = m.DirId, DocId = c.DocId, ChunkIndex = c.ChunkIndex, ChunkId = c.ChunkKey, Bytes = c.Bytes }).ToList());
        return new DatasetRegistered(m.DirId);
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
