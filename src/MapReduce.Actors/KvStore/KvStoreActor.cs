using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Protocol.KvStoreProtocol;

namespace MapReduce.Actors.KvStore;

/// <summary>
/// The kvstore's control side: tells where its data channel is (blob bytes move over HTTP, see
/// <see cref="BlobHttpServer"/>) and where its folder is (a process on this machine reads and writes
/// it directly, see <see cref="BlobClient"/>), sweeps temp files their writers abandoned, records
/// datasets (from their manifest blobs) and code in the catalog once their blobs are stored, and deletes what the master says is no longer needed
/// (an ended job's leftovers only after its end marker is stored: <see cref="JobFence"/>).
/// The blobs are in its folder or in an object store (<see cref="IBlobStore"/>); with an object store
/// it advertises no folder, and the store's I/O is awaited, not blocked on.
/// </summary>
public sealed class KvStoreActor : ReceiveActor, IWithTimers
{
    /// <summary>How often temp files are looked for, and how long one must be untouched to count as abandoned (mapreduce.kvstore.sweep-every, abandoned-after).</summary>
    private readonly TempSweepSettings _sweep;

    private sealed record SweepIncoming;

    private readonly IBlobStore _blobs;
    private readonly CatalogStore _catalog;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public KvStoreActor(IBlobStore blobs, CatalogStore catalog, string dataUrl, TempSweepSettings sweep)
    {
        _sweep = sweep;
        // Only the kvstore's own folder can be reached directly (the short circuit).
        var (root, storeId) = blobs is LocalBlobStore local ? (local.Root, local.StoreId) : ("", "");
        _blobs = blobs;
        _catalog = catalog;

        ReceiveAsync<SweepIncoming>(async _ =>
        {
            try
            {
                var deleted = await _blobs.SweepAbandonedAsync(_sweep.AbandonedAfter);
                if (deleted > 0) _log.Info("deleted {0} temp files abandoned by writers that died", deleted);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Warning("sweeping abandoned temp files failed: {0}", e.Message);
            }
        });
        Receive<GetDataEndpoint>(_ => Sender.Tell(new DataEndpoint(dataUrl, root, storeId)));
        ReceiveAsync<RegisterDataset>(m => ReplyAsync(async () =>
        {
            var reply = await RegisterAsync(m);
            if (reply is KvStoreFailure) await DeleteRefusedUploadAsync(m);
            return reply;
        }));
        ReceiveAsync<RemoveDataset>(m => ReplyAsync(async () =>
        {
            // Catalog first: once the rows are gone no job can name the dataset. A crash before the
            // files go leaves files nobody refers to, never a dataset with chunks missing.
            if (_catalog.DeleteDataset(m.DirId) is not { Dataset: var dataset, Chunks: var chunks }) return new KvStoreFailure($"dataset '{m.DirId}' is not in the store");
            var (blobs, bytes) = await _blobs.DeleteAllAsync(chunks.Select(c => c.ChunkId).ToList());
            // The manifest last: it shares the chunks' folder, which goes once it is empty. A job's
            // result has none, nor has an upload from before manifests (a missing blob is skipped).
            if (dataset.Kind == DatasetKind.Input) await _blobs.DeleteAllAsync([BlobKeys.Manifest(m.DirId)]);
            // The map outputs incremental re-runs kept of it go with it (see CatalogStore.DropIncremental).
            var kept = _catalog.DropIncremental(m.DirId);
            foreach (var runs in kept) await _blobs.DeleteFolderAsync(runs);
            if (kept.Count > 0) _log.Info("deleted dataset {0}: and the {1} map outputs incremental re-runs kept of it", m.DirId, kept.Count);
            _log.Info("deleted dataset {0}: {1} of its {2} chunks were stored, {3} bytes", m.DirId, blobs, chunks.Count, bytes);
            return (object)new DatasetRemoved(m.DirId, chunks.Count, bytes);
        }));
        ReceiveAsync<CleanUpJob>(m => ReplyAsync(async () =>
        {
            // The marker first, then the deletions: a late write that lands after them deletes itself (JobFence).
            await JobFence.EndAsync(_blobs, m.Job.Value);
            var deleted = 0;
            foreach (var prefix in m.Leftovers) deleted += await _blobs.DeleteFolderAsync(prefix);
            return new FoldersRemoved(deleted);
        }));
        ReceiveAsync<KeepMapOutputs>(m => ReplyAsync(async () =>
        {
            var (run, outputs) = m.Rows();
            var dropped = _catalog.KeepIncremental(run, outputs);
            var deleted = 0;
            foreach (var runs in dropped.Where(f => !m.InUse.Contains(f))) deleted += await _blobs.DeleteFolderAsync(runs);
            return new FoldersRemoved(deleted);
        }));
        ReceiveAsync<RegisterCode>(m => ReplyAsync(async () =>
        {
            // Only an id that names a script by its hash, under that script's own key: no other row for workers to trust.
            if (CodeBlob.IdProblem(m.CodeId) is { } badId) return new KvStoreFailure(badId);
            if (m.BlobKey != CodeBlob.KeyOf(m.CodeId))
                return new KvStoreFailure($"code {m.CodeId}: its blob must be {CodeBlob.KeyOf(m.CodeId)}, not {BlobKey.Printable(m.BlobKey)}");
            if (!await _blobs.ExistsAsync(m.BlobKey)) return new KvStoreFailure($"code {m.CodeId}: blob {m.BlobKey} was never stored");
            _catalog.RegisterCode(new CodeRow { CodeId = m.CodeId, BlobKey = m.BlobKey, Source = m.Source, CreatedAt = DateTime.UtcNow });
            return (object)new CodeRegistered(m.CodeId);
        }));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart() => Timers.StartPeriodicTimer("sweep-incoming", new SweepIncoming(), _sweep.Every);

    /// <param name="sweep">mapreduce.kvstore.sweep-every and abandoned-after; null: hocon/mapreduce.hocon's.</param>
    public static Props Props(IBlobStore blobs, CatalogStore catalog, string dataUrl, TempSweepSettings? sweep = null)
    {
        var settings = sweep ?? MapReduceSettings.Defaults.TempSweep;
        return Akka.Actor.Props.Create(() => new KvStoreActor(blobs, catalog, dataUrl, settings));
    }

    /// <summary>
    /// Reads the dataset's manifest and records the dataset and its chunk rows in one transaction,
    /// once every chunk the manifest lists is stored. A client names the dataset and writes its
    /// manifest, so both are held to what its own upload may be: an id of its own, registered once,
    /// and chunks under that id's folder (deleting the dataset deletes them, and nothing else).
    /// </summary>
    private async Task<object> RegisterAsync(RegisterDataset m)
    {
        if (DatasetIds.RegistrationProblem(m.DirId) is { } badId) return new KvStoreFailure(badId);
        var expectedKey = BlobKeys.Manifest(m.DirId);
        if (m.ManifestKey != expectedKey)
            return new KvStoreFailure($"dataset {m.DirId}: its manifest must be stored as {expectedKey}, not {m.ManifestKey}");
        DatasetManifest manifest;
        await using (var json = await _blobs.OpenReadAsync(m.ManifestKey))
        {
            if (json is null) return new KvStoreFailure($"dataset {m.DirId}: manifest {m.ManifestKey} was never stored");
            try
            {
                manifest = DatasetManifest.Parse(json.Content);
            }
            catch (JsonException e)
            {
                return new KvStoreFailure($"dataset {m.DirId}: manifest {m.ManifestKey} is not valid JSON: {e.Message}");
            }
        }
        if (manifest.DirId != m.DirId)
            return new KvStoreFailure($"dataset {m.DirId}: manifest {m.ManifestKey} lists the chunks of dataset {BlobKey.Printable(manifest.DirId)}");
        var folder = BlobKeys.DatasetFolder(m.DirId) + "/";
        foreach (var chunk in manifest.Chunks)
        {
            if (BlobKey.Problem(chunk.ChunkKey) is { } badKey) return new KvStoreFailure($"dataset {m.DirId}: {badKey}");
            if (chunk.ChunkKey == expectedKey) return new KvStoreFailure($"dataset {m.DirId}: chunk {chunk.ChunkKey} is the dataset's manifest, not a chunk");
            if (chunk.ContentId is not null && !MapReduce.Storage.Incremental.ContentIds.IsChunkId(chunk.ContentId))
                return new KvStoreFailure($"dataset {m.DirId}: chunk {chunk.ChunkKey} has a content id that is not 32 lowercase hex digits");
            if (!chunk.ChunkKey.StartsWith(folder, StringComparison.Ordinal))
                return new KvStoreFailure($"dataset {m.DirId}: chunk {chunk.ChunkKey} is not under {folder} (a dataset's chunks lie under its own prefix)");
        }
        DocumentChunk? missing = null;
        foreach (var chunk in manifest.Chunks)
        {
            if (await _blobs.ExistsAsync(chunk.ChunkKey)) continue;
            missing = chunk;
            break;
        }
        if (missing is not null) return new KvStoreFailure($"dataset {m.DirId}: chunk {missing.ChunkKey} was never stored");
        var registered = _catalog.RegisterNewDataset(
            new DatasetRow
            {
                DirId = m.DirId, Kind = DatasetKind.Input, Source = m.Source, Documents = m.Documents,
                Chunks = manifest.Chunks.Length, Bytes = manifest.Chunks.Sum(c => c.Bytes), CreatedAt = DateTime.UtcNow,
            },
            manifest.Chunks.Select(c => new ChunkRow { DirId = m.DirId, DocId = c.DocId, ChunkIndex = c.ChunkIndex, ChunkId = c.ChunkKey, Bytes = c.Bytes, ContentId = c.ContentId }).ToList());
        return registered == NewDataset.Taken
            ? new KvStoreFailure($"dataset {m.DirId} is already registered with other chunks; a dataset id is registered once (upload under a new id)")
            : new DatasetRegistered(m.DirId);
    }

    /// <summary>
    /// A registration refused leaves nothing behind: what was uploaded under the dataset's folder
    /// (its chunks, its manifest) is deleted, unless a dataset of that id is registered. So a client
    /// whose upload failed half way (a file changed under it) removes its chunks by registering
    /// without a manifest, and an upload refused for a missing chunk leaves no orphans either.
    /// </summary>
    private async Task DeleteRefusedUploadAsync(RegisterDataset m)
    {
        // Not for an id refused as such (it names no folder of its own), nor for a registered dataset.
        if (DatasetIds.RegistrationProblem(m.DirId) is not null || _catalog.GetDataset(m.DirId) is not null) return;
        var deleted = await _blobs.DeleteFolderAsync(BlobKeys.DatasetFolder(m.DirId));
        if (deleted > 0) _log.Info("registration of dataset {0} refused: deleted the {1} blobs uploaded for it", m.DirId, deleted);
    }

    private async Task ReplyAsync(Func<Task<object>> action)
    {
        var sender = Sender;
        try
        {
            sender.Tell(await action());
        }
        catch (Exception e) when (e is InvalidBlobKeyException or IOException or UnauthorizedAccessException or LinqToDB.LinqToDBException or System.Data.Common.DbException)
        {
            var message = DiskFull.Is(e) ? $"{KvStoreDiskFullException.Prefix}: {e.Message}" : e.Message;
            _log.Warning("kvstore request failed: {0}", message);
            sender.Tell(new KvStoreFailure(message));
        }
    }
}
