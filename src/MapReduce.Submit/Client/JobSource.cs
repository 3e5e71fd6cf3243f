using MapReduce.Actors.Api;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Protocol.ApiModels;

namespace MapReduce.Submit.Client;

/// <summary>
/// Where the read commands (jobs, status, logs, download, datasets) read from: a running
/// cluster's control API, or, when none runs on a local store, that store's catalog and blob
/// folder directly, so finished jobs can still be looked at and downloaded.
/// </summary>
public interface IJobSource
{
    /// <summary>What is being read, for the user: a cluster URL or a store folder.</summary>
    string Description { get; }
    Task<JobSummary[]> JobsAsync(int limit, CancellationToken ct);
    Task<JobDetail?> JobAsync(string id, CancellationToken ct);
    Task<Attempt[]?> AttemptsAsync(string id, CancellationToken ct);
    Task<AttemptLog[]?> LogsAsync(string id, string? task, CancellationToken ct);
    Task<DatasetInfo[]> DatasetsAsync(CancellationToken ct);
}

public sealed class ApiJobSource(ClusterApi api, string description) : IJobSource
{
    public string Description => description;

    public ClusterApi Api => api;

    public Task<JobSummary[]> JobsAsync(int limit, CancellationToken ct) => api.JobsAsync(limit, ct);

    public async Task<JobDetail?> JobAsync(string id, CancellationToken ct) => await NotFoundAsNull(() => api.JobAsync(id, ct));

    public async Task<Attempt[]?> AttemptsAsync(string id, CancellationToken ct) => await NotFoundAsNull(() => api.AttemptsAsync(id, ct));

    public async Task<AttemptLog[]?> LogsAsync(string id, string? task, CancellationToken ct) => await NotFoundAsNull(() => api.LogsAsync(id, task, ct));

    public Task<DatasetInfo[]> DatasetsAsync(CancellationToken ct) => api.DatasetsAsync(ct);

    private static async Task<T?> NotFoundAsNull<T>(Func<Task<T>> call) where T : class
    {
        try { return await call(); }
        catch (ApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound) { return null; }
    }
}

/// <summary>A local store no cluster runs on: its SQLite catalog and blob folder, read directly.</summary>
public sealed class StoreJobSource(string store) : IJobSource
{
    private readonly JobReadModel _jobs = new(new CatalogStore(SqlLocation.SqliteFile(Path.Combine(store, "catalog.db"))));

    public string Description => $"the store {store} (no cluster runs on it)";

    /// <summary>Null when the folder holds no catalog: nothing has run there.</summary>
    public static StoreJobSource? Open(string store) =>
        File.Exists(Path.Combine(store, "catalog.db")) ? new StoreJobSource(Path.GetFullPath(store)) : null;

    public LocalBlobStore? Blobs => LocalBlobStore.OpenStopped(Path.Combine(store, "kvstore"));

    public Task<JobSummary[]> JobsAsync(int limit, CancellationToken ct) => Task.FromResult(_jobs.Jobs(limit));

    public Task<JobDetail?> JobAsync(string id, CancellationToken ct) => Task.FromResult(_jobs.Job(id));

    public Task<Attempt[]?> AttemptsAsync(string id, CancellationToken ct) => Task.FromResult(_jobs.Attempts(id));

    public Task<AttemptLog[]?> LogsAsync(string id, string? task, CancellationToken ct)
    {
        var blobs = Blobs;
        return _jobs.LogsAsync(id, task, (key, _) => Task.FromResult(blobs?.ReadAll(key)), ct);
    }

    public Task<DatasetInfo[]> DatasetsAsync(CancellationToken ct) => Task.FromResult(_jobs.Datasets());
}
