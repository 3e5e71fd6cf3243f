using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using static MapReduce.Actors.Protocol.ApiModels;
using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Actors.Api;

/// <summary>
/// The control API's handlers (docs/api.md). Commands go to the master singleton through this
/// node's proxy; reads come from the catalog, the read model the master projects into, so they
/// work on any master node and during a take-over. A request that needs the kvstore while it cannot
/// be reached is answered 503 with one line saying so.
/// </summary>
/// <param name="kvstoreTimeout">How long a request waits for the kvstore before 503 (mapreduce.master.kvstore-timeout; null: hocon/mapreduce.hocon's).</param>
/// <param name="longPoll">How long the master holds a status question with nothing new (mapreduce.master.long-poll; null: hocon/mapreduce.hocon's).</param>
/// <param name="time">The clock of how long the cluster has been idle (null: the system's).</param>
/// <param name="waits">How long a command waits for the master (mapreduce.http.master-timeout, slow-command-timeout; null: hocon/mapreduce.hocon's).</param>
public sealed class ControlApiRoutes(ActorSystem system, IActorRef master, CatalogStore catalog, KvStoreLocator locator, IBlobClient blobs, TimeSpan? kvstoreTimeout = null,
    TimeSpan? longPoll = null, TimeProvider? time = null, ControlApiSettings? waits = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    /// <summary>A command the singleton does not answer in this long is answered 503: a take-over is under way.</summary>
    private readonly TimeSpan _masterTimeout = (waits ?? MapReduceSettings.Defaults.ControlApi).MasterTimeout;
    /// <summary>The master's long poll and a margin, short enough that a poll lost in a take-over is soon asked again.</summary>
    private readonly TimeSpan _pollTimeout = (longPoll ?? MapReduceSettings.Defaults.Master.LongPoll) + DependentTimings.LongPollMargin;
    /// <summary>Admission reads the catalog; deletion waits for the kvstore: the master's own limits, plus a margin.</summary>
    private readonly TimeSpan _slowCommandTimeout = (waits ?? MapReduceSettings.Defaults.ControlApi).SlowCommandTimeout;
    /// <summary>Long enough for a kvstore that is starting or restarting to join.</summary>
    private readonly TimeSpan _kvstoreTimeout = kvstoreTimeout ?? MapReduceSettings.Defaults.Master.KvStoreTimeout;
    private const int JobListLimit = 200;

    private readonly JobReadModel _jobs = new(catalog);

    /// <summary>When a client last asked anything but <c>/api/idle</c> (ticks, UTC).</summary>
    private long _lastRequest = (time ?? TimeProvider.System).GetUtcNow().UtcTicks;

    public void Map(WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (context.Request.Path != "/api/idle") Interlocked.Exchange(ref _lastRequest, _time.GetUtcNow().UtcTicks);
            return next(context);
        });
        app.MapGet("/api/idle", Idle);
        app.MapGet("/api/cluster", ClusterAsync);
        app.MapGet("/api/store", StoreAsync);
        app.MapPost("/api/code", RegisterCodeAsync);
        app.MapPost("/api/datasets", RegisterDatasetAsync);
        app.MapGet("/api/datasets", ListDatasets);
        app.MapDelete("/api/datasets/{id}", DeleteDatasetAsync);
        app.MapPost("/api/jobs", SubmitAsync);
        app.MapGet("/api/jobs", ListJobs);
        app.MapGet("/api/jobs/{id}", JobDetail);
        app.MapGet("/api/jobs/{id}/progress", ProgressAsync);
        app.MapPost("/api/jobs/{id}/cancel", CancelAsync);
        app.MapGet("/api/jobs/{id}/attempts", Attempts);
        app.MapGet("/api/jobs/{id}/logs", LogsAsync);
    }

    /// <summary>How long no client asked anything and no job ran: a local cluster kept up for a while stops after enough of it.</summary>
    private Task Idle(HttpContext context)
    {
        var running = _jobs.RunningJobs();
        var idle = running > 0 ? TimeSpan.Zero : _time.GetUtcNow().UtcDateTime - new DateTime(Interlocked.Read(ref _lastRequest), DateTimeKind.Utc);
        return WriteAsync(context, 200, new IdleInfo(Math.Round(idle.TotalSeconds, 1), running));
    }

    private async Task ClusterAsync(HttpContext context)
    {
        var state = Cluster.Get(system).State;
        WorkerInfo[] workers = [];
        try { workers = (await master.Ask<WorkerList>(GetWorkers.Instance, _pollTimeout).ConfigureAwait(false)).Workers; }
        catch (AskTimeoutException) { } // members still show; slots come back once the master answers
        var byAddress = workers.ToDictionary(w => w.Address);
        var members = state.Members.OrderBy(m => m.Address.ToString(), StringComparer.Ordinal).Select(m =>
        {
            var worker = byAddress.GetValueOrDefault(m.Address.ToString());
            return new MemberInfo(m.Address.ToString(), [.. m.Roles.Order()], m.Status.ToString().ToLowerInvariant(),
                !state.Unreachable.Contains(m), worker?.Slots, worker?.Running ?? [], worker?.Unavailable);
        }).ToArray();
        var singleton = state.Members.Where(m => m.HasRole(NodeRoles.Master) && m.Status == MemberStatus.Up).OrderBy(m => m, Member.AgeOrdering).FirstOrDefault();
        await WriteAsync(context, 200, new ClusterInfo(members, singleton?.Address.ToString())).ConfigureAwait(false);
    }

    private async Task StoreAsync(HttpContext context)
    {
        if (await AskKvStoreAsync(new KvStoreProtocol.GetDataEndpoint(), context).ConfigureAwait(false) is not { } reply) return;
        await (reply is KvStoreProtocol.DataEndpoint endpoint
            ? WriteAsync(context, 200, new StoreInfo(endpoint.BaseUrl, endpoint.StoreRoot, endpoint.StoreId))
            : ErrorAsync(context, 500, KvStoreProblem(reply))).ConfigureAwait(false);
    }

    private async Task RegisterCodeAsync(HttpContext context)
    {
        if (await ReadAsync<CodeRegistration>(context, RequestChecks.Problem).ConfigureAwait(false) is not { } code) return;
        if (await AskKvStoreAsync(new KvStoreProtocol.RegisterCode(code.CodeId, code.BlobKey, code.Source), context).ConfigureAwait(false) is not { } reply) return;
        await (reply is KvStoreProtocol.CodeRegistered
            ? WriteAsync(context, 200, new RegisteredCode(code.CodeId))
            : ErrorAsync(context, 400, KvStoreProblem(reply))).ConfigureAwait(false);
    }

    private async Task RegisterDatasetAsync(HttpContext context)
    {
        if (await ReadAsync<DatasetRegistration>(context, RequestChecks.Problem).ConfigureAwait(false) is not { } d) return;
        if (await AskKvStoreAsync(new KvStoreProtocol.RegisterDataset(d.DatasetId, d.Source, d.Documents, d.ManifestKey), context).ConfigureAwait(false) is not { } reply) return;
        await (reply is KvStoreProtocol.DatasetRegistered
            ? WriteAsync(context, 200, new RegisteredDataset(d.DatasetId))
            : ErrorAsync(context, 400, KvStoreProblem(reply))).ConfigureAwait(false);
    }

    private Task ListDatasets(HttpContext context) => WriteAsync(context, 200, _jobs.Datasets());

    private async Task DeleteDatasetAsync(HttpContext context)
    {
        var id = (string)context.Request.RouteValues["id"]!;
        if (DatasetIds.Problem(id) is { } problem)
        {
            await ErrorAsync(context, 400, problem).ConfigureAwait(false);
            return;
        }
        // The catalog is the one the kvstore deletes from: an id it lacks is not found, not a conflict.
        if (catalog.GetDataset(id) is null)
        {
            await ErrorAsync(context, 404, $"dataset '{id}' is not in the store").ConfigureAwait(false);
            return;
        }
        var reply = await AskMasterAsync(new DeleteDataset(id), _slowCommandTimeout, context).ConfigureAwait(false);
        await (reply switch
        {
            null => Task.CompletedTask,
            DatasetDeleted d => WriteAsync(context, 200, new DatasetDeletion(d.DatasetId, d.Chunks, d.Bytes)),
            DeleteRejected r => ErrorAsync(context, 409, r.Reason),
            _ => ErrorAsync(context, 500, $"unexpected answer {reply.GetType().Name}"),
        }).ConfigureAwait(false);
    }

    private async Task SubmitAsync(HttpContext context)
    {
        if (await ReadAsync<JobRequest>(context, RequestChecks.Problem).ConfigureAwait(false) is not { } job) return;
        var reply = await AskMasterAsync(new SubmitJob(job.CodeId, job.DatasetId, job.Reducers, job.SkipBadRecords, job.Incremental), _slowCommandTimeout, context).ConfigureAwait(false);
        await (reply switch
        {
            null => Task.CompletedTask,
            JobAccepted a => WriteAsync(context, 202, new JobCreated(a.JobId.Value, a.MapTasks, a.ReduceTasks, a.Reused)),
            JobRejected r => ErrorAsync(context, 400, r.Reason),
            _ => ErrorAsync(context, 500, $"unexpected answer {reply.GetType().Name}"),
        }).ConfigureAwait(false);
    }

    private Task ListJobs(HttpContext context)
    {
        var limit = int.TryParse(context.Request.Query["limit"], out var n) && n is > 0 and <= 10_000 ? n : JobListLimit;
        return WriteAsync(context, 200, _jobs.Jobs(limit));
    }

    private Task JobDetail(HttpContext context)
    {
        if (JobIdOf(context) is not { } id) return ErrorAsync(context, 400, "not a job id");
        return _jobs.Job(id.Value) is { } job ? WriteAsync(context, 200, job) : ErrorAsync(context, 404, $"no job {id}");
    }

    /// <summary>A job the master no longer holds has ended: its status comes from the read model.</summary>
    private Task ProgressAsync(HttpContext context)
    {
        var maps = int.TryParse(context.Request.Query["maps"], out var m) ? m : -1;
        var reduces = int.TryParse(context.Request.Query["reduces"], out var r) ? r : -1;
        return JobCommandAsync(context, id => new GetJobStatus(id, maps, reduces), _pollTimeout, id => _jobs.EndedStatus(id));
    }

    /// <summary>A job the master no longer holds has ended: cancelling it is refused with the state the read model has.</summary>
    private Task CancelAsync(HttpContext context) => JobCommandAsync(context, id => new CancelJob(id), _masterTimeout,
        id => _jobs.EndedStatus(id) is { } ended ? new CancelRejected(MasterCore.CancelRefusal(id, ended.Stage)) : null);

    /// <summary>
    /// Asks the master about the job named in the path; its status, or its refusal, is the answer.
    /// <paramref name="ended"/> answers instead, from the read model, when the master does not hold the job.
    /// </summary>
    private async Task JobCommandAsync(HttpContext context, Func<JobId, object> question, TimeSpan timeout, Func<JobId, object?> ended)
    {
        if (JobIdOf(context) is not { } id)
        {
            await ErrorAsync(context, 400, "not a job id").ConfigureAwait(false);
            return;
        }
        var reply = await AskMasterAsync(question(id), timeout, context).ConfigureAwait(false);
        if (reply is UnknownJob) reply = ended(id) ?? reply;
        await (reply switch
        {
            null => Task.CompletedTask,
            JobStatus s => WriteAsync(context, 200, ProgressOf(s)),
            CancelRejected rejected => ErrorAsync(context, 409, rejected.Reason),
            UnknownJob => ErrorAsync(context, 404, $"no job {id}"),
            _ => ErrorAsync(context, 500, $"unexpected answer {reply.GetType().Name}"),
        }).ConfigureAwait(false);
    }

    private Task Attempts(HttpContext context)
    {
        if (JobIdOf(context) is not { } id) return ErrorAsync(context, 400, "not a job id");
        return _jobs.Attempts(id.Value) is { } attempts ? WriteAsync(context, 200, attempts) : ErrorAsync(context, 404, $"no job {id}");
    }

    /// <summary>
    /// The job's attempt logs as one JSON array, written one log at a time (each read, written and
    /// flushed before the next is read), so the node holds one log, not the job's.
    /// </summary>
    private async Task LogsAsync(HttpContext context)
    {
        if (JobIdOf(context) is not { } id)
        {
            await ErrorAsync(context, 400, "not a job id").ConfigureAwait(false);
            return;
        }
        if (_jobs.Attempts(id.Value) is not { } attempts)
        {
            await ErrorAsync(context, 404, $"no job {id}").ConfigureAwait(false);
            return;
        }
        var body = context.Response.Body;
        var ct = context.RequestAborted;
        try
        {
            var first = true;
            await foreach (var log in JobReadModel.Logs(id.Value, attempts, context.Request.Query["task"].ToString(), ReadLogAsync, ct).ConfigureAwait(false))
            {
                if (first)
                {
                    context.Response.StatusCode = 200;
                    context.Response.ContentType = "application/json; charset=utf-8";
                }
                await body.WriteAsync(first ? "["u8.ToArray() : ","u8.ToArray(), ct).ConfigureAwait(false);
                first = false;
                await JsonSerializer.SerializeAsync(body, log, Json, ct).ConfigureAwait(false);
                await body.FlushAsync(ct).ConfigureAwait(false);
            }
            if (first) await WriteAsync(context, 200, Array.Empty<AttemptLog>()).ConfigureAwait(false);
            else await body.WriteAsync("]"u8.ToArray(), ct).ConfigureAwait(false);
        }
        catch (KvStoreUnreachableException e)
        {
            // Before the first log the answer can still say why; after it, only a cut connection
            // tells the client that the array it got is not whole.
            if (!context.Response.HasStarted) await ErrorAsync(context, 503, KvStoreUnreachableException.Advice(e.Message)).ConfigureAwait(false);
            else context.Abort();
        }

        async Task<byte[]?> ReadLogAsync(string key, CancellationToken ct)
        {
            try { return await blobs.GetBytesAsync(key, ct).ConfigureAwait(false); }
            catch (KvStoreException e) when (e is not KvStoreUnreachableException) { return null; } // the attempt printed nothing
        }
    }

    /// <summary>Job ids are short words of letters, digits and dashes; anything else is not looked up.</summary>
    private static JobId? JobIdOf(HttpContext context) =>
        context.Request.RouteValues["id"] is string text && text.Length is > 0 and <= 64 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? new JobId(text)
            : null;

    /// <summary>The singleton's answer, or null after answering 503 when it did not answer in time.</summary>
    private async Task<object?> AskMasterAsync(object message, TimeSpan timeout, HttpContext context)
    {
        try
        {
            return await master.Ask<object>(message, timeout, context.RequestAborted).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            await ErrorAsync(context, 503, $"the master did not answer within {Durations.Say(timeout)}; is a master node up? (a take-over takes a few seconds)").ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>
    /// The kvstore's answer, or null after answering 503 when it could not be found or did not answer
    /// in time (one line saying so: the CLI asks again, then prints it; no stack trace).
    /// </summary>
    private async Task<object?> AskKvStoreAsync(object message, HttpContext context)
    {
        try
        {
            var kv = await locator.ResolveAsync(_kvstoreTimeout, context.RequestAborted).ConfigureAwait(false);
            return await kv.Ask<object>(message, _kvstoreTimeout, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (KvStoreUnreachableException.IsOutage(e))
        {
            var why = e is AskTimeoutException ? $"it did not answer within {Durations.Say(_kvstoreTimeout)}" : e.Message;
            await ErrorAsync(context, 503, KvStoreUnreachableException.Advice(why)).ConfigureAwait(false);
            return null;
        }
    }

    private static string KvStoreProblem(object reply) =>
        reply is KvStoreProtocol.KvStoreFailure f ? f.Message : $"unexpected kvstore answer {reply.GetType().Name}";

    /// <summary>The request body as a <typeparamref name="T"/> that passes <paramref name="problem"/>, or null after answering 400 (413 when the body is too large) with one line.</summary>
    private static async Task<T?> ReadAsync<T>(HttpContext context, Func<T, string?> problem) where T : class
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = RequestChecks.MaxBodyBytes;
        try
        {
            if (await JsonSerializer.DeserializeAsync<T>(context.Request.Body, Json, context.RequestAborted).ConfigureAwait(false) is { } body)
            {
                if (problem(body) is not { } wrong) return body;
                await ErrorAsync(context, 400, wrong).ConfigureAwait(false);
                return null;
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await ErrorAsync(context, 413, RequestChecks.BodyTooLarge).ConfigureAwait(false);
            return null;
        }
        catch (JsonException e)
        {
            await ErrorAsync(context, 400, $"the request body is not a {typeof(T).Name}: {e.Message}").ConfigureAwait(false);
            return null;
        }
        await ErrorAsync(context, 400, $"the request body is not a {typeof(T).Name}").ConfigureAwait(false);
        return null;
    }

    private static Task ErrorAsync(HttpContext context, int status, string message) => WriteAsync(context, status, new ApiError(message));

    private static Task WriteAsync<T>(HttpContext context, int status, T body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, body, Json, context.RequestAborted);
    }
}
