using Akka.Actor;
using Akka.Event;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// The master's child that owns every deletion in the kvstore: datasets users delete, and the
/// intermediate data of jobs that ended. It waits on the kvstore so the master never does. A job's
/// clean-up that cannot reach the kvstore is tried again after 1 s, 2 s, 4 s, … (at most 30 s apart)
/// until the kvstore is back, however long it is away; only then is the job archived.
/// </summary>
/// <remarks>
/// One clean-up per job, no sweep later: the kvstore stores the job's end marker before it deletes
/// anything, and a write into the job's folder after that (an attempt on a worker that was paused
/// or cut off, or one still stopping) deletes itself (Storage.Blobs.JobFence). A timer here would
/// be lost when the master fails over or a local cluster stops.
/// </remarks>
public sealed class StoreJanitor : ReceiveActor, IWithTimers
{
    /// <summary>
    /// Delete what an ended job no longer needs; answered to the parent with <see cref="CleanedUp"/>
    /// once the kvstore has done it, or refused it (best effort: what is left behind is only space).
    /// </summary>
    /// <remarks><see cref="InUse"/>: runs folders that running incremental jobs read, which an incremental job's clean-up must keep.</remarks>
    public sealed record CleanUp(JobState Job, string[]? InUse = null);

    public sealed record CleanedUp(JobId Job);

    /// <summary>Delete a dataset; the answer (<see cref="DatasetDeleted"/> or <see cref="DeleteRejected"/>) goes to <see cref="Requester"/>, and <see cref="DatasetRemovalEnded"/> to the parent.</summary>
    public sealed record RemoveDataset(string DatasetId, IActorRef Requester);

    public sealed record DatasetRemovalEnded(string DatasetId, IActorRef Requester, object Reply);

    /// <summary>How a clean-up went: <see cref="Unreachable"/> holds why the kvstore could not be reached, null when it is over.</summary>
    private sealed record CleanUpTried(JobState Job, int Failures, string? Unreachable, string[] InUse);

    private sealed record CleanUpAgain(JobState Job, int Failures, string[] InUse);

    private readonly Func<TimeSpan, Task<IActorRef>> _findKvStore;
    private readonly TimeSpan _timeout;
    private readonly ExponentialBackoff _backoff;

    public ITimerScheduler Timers { get; set; } = null!;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <param name="findKvStore">Finds the kvstore actor within the timeout given (KvStoreLocator in a cluster).</param>
    /// <param name="backoff">The delays between tries of a clean-up while the kvstore is away (mapreduce.kvstore.backoff); null: hocon/mapreduce.hocon's.</param>
    public StoreJanitor(Func<TimeSpan, Task<IActorRef>> findKvStore, TimeSpan timeout, ExponentialBackoff? backoff = null)
    {
        _findKvStore = findKvStore;
        _backoff = backoff ?? MapReduceSettings.Defaults.Master.KvStoreBackoff;
        _timeout = timeout;
        Receive<CleanUp>(m => CleanUpAsync(m.Job, 0, m.InUse ?? []).PipeTo(Self));
        Receive<CleanUpTried>(m =>
        {
            if (m.Unreachable is null)
            {
                if (m.Failures > 0) _log.Info("job {0}: its intermediate data is deleted, the kvstore is back", m.Job.Id);
                Context.Parent.Tell(new CleanedUp(m.Job.Id));
                return;
            }
            var delay = _backoff.Delay(m.Failures);
            if (m.Failures == 1 || delay == _backoff.Max)
                _log.Warning("job {0}: its intermediate data is not deleted yet ({1}); asking the kvstore again in {2:0} s", m.Job.Id, m.Unreachable, delay.TotalSeconds);
            Timers.StartSingleTimer(("clean-up", m.Job.Id), new CleanUpAgain(m.Job, m.Failures, m.InUse), delay);
        });
        Receive<CleanUpAgain>(m => CleanUpAsync(m.Job, m.Failures, m.InUse).PipeTo(Self));
        Receive<RemoveDataset>(m => RemoveAsync(m).PipeTo(Context.Parent));
    }

    public static Props Props(Func<TimeSpan, Task<IActorRef>> findKvStore, TimeSpan timeout, ExponentialBackoff? backoff = null) =>
        Akka.Actor.Props.Create(() => new StoreJanitor(findKvStore, timeout, backoff));

    /// <summary>
    /// A job that succeeded needs none of its map runs, nor the outputs of reduce attempts that
    /// lost; a failed job needs nothing it wrote. Without this the store would keep a job's whole
    /// intermediate data forever. Best effort: what is left behind is only space.
    /// </summary>
    /// <remarks>
    /// An incremental job that succeeded keeps its accepted map attempts' runs (the next re-run of its
    /// lineage may reuse them, see <see cref="Keep"/>); only the attempts that lost go.
    /// </remarks>
    public static string[] Leftovers(JobState job) => job.Stage == JobStage.Succeeded
        ? [.. job.Lineage is null
            ? [BlobKeys.MapRunsFolder(job.Id)]
            : job.Maps.SelectMany(task => Enumerable.Range(1, task.Attempts)
                .Where(n => n != task.AcceptedAttempt)
                .Select(n => BlobKeys.MapAttemptFolder(new AttemptId(job.Id, task.Id, n)))),
            .. job.Reduces.SelectMany(task => Enumerable.Range(1, task.Attempts)
            .Where(n => n != task.AcceptedAttempt)
            .Select(n => BlobKeys.ReduceAttemptFolder(new AttemptId(job.Id, task.Id, n))))]
        : [BlobKeys.JobFolder(job.Id)];

    /// <summary>
    /// What an incremental job that succeeded keeps: every map output it used, its own accepted runs
    /// and those it reused, as its lineage's latest (the kvstore deletes the lineage's others).
    /// </summary>
    public static KvStoreProtocol.KeepMapOutputs? Keep(JobState job, string[] inUse) =>
        job is { Lineage: { } lineage, Stage: JobStage.Succeeded }
            ? new KvStoreProtocol.KeepMapOutputs(lineage, job.Id.Value, IncrementalPlan.ResultId(job.CodeId, job.Reducers, job.Maps.Select(m => m.Input!)),
                job.DatasetId, job.ResultDatasetId,
                [.. job.Maps.Select(m => new KvStoreProtocol.KeptMapOutput(m.Input!.OutputId!,
                    m.Input.ReusedRuns ?? BlobKeys.MapAttemptFolder(new AttemptId(job.Id, m.Id, m.AcceptedAttempt!.Value)), m.NonEmptyPartitions.ToArray()))],
                inUse, job.SubmittedAt)
            : null;

    /// <param name="failures">How many tries before this one could not reach the kvstore.</param>
    private async Task<CleanUpTried> CleanUpAsync(JobState job, int failures, string[] inUse)
    {
        try
        {
            var kvstore = await _findKvStore(_timeout).ConfigureAwait(false);
            // The job's end marker goes first, whatever happens to the rest: it fences the job's folder.
            await kvstore.Ask<KvStoreProtocol.FoldersRemoved>(new KvStoreProtocol.CleanUpJob(job.Id, Leftovers(job)), _timeout).ConfigureAwait(false);
            if (Keep(job, inUse) is { } keep) await kvstore.Ask<KvStoreProtocol.FoldersRemoved>(keep, _timeout).ConfigureAwait(false);
        }
        catch (Exception e) when (KvStoreUnreachableException.IsOutage(e))
        {
            return new CleanUpTried(job, failures + 1, e.Message, inUse);
        }
        catch (Exception e)
        {
            _log.Warning("job {0}: its intermediate data stays in the store: {1}", job.Id, e.Message);
        }
        return new CleanUpTried(job, failures, null, inUse);
    }

    private async Task<DatasetRemovalEnded> RemoveAsync(RemoveDataset m)
    {
        object reply;
        try
        {
            var kvstore = await _findKvStore(_timeout).ConfigureAwait(false);
            reply = await kvstore.Ask<object>(new KvStoreProtocol.RemoveDataset(m.DatasetId), _timeout).ConfigureAwait(false) switch
            {
                KvStoreProtocol.DatasetRemoved r => new DatasetDeleted(r.DirId, r.Chunks, r.Bytes),
                KvStoreProtocol.KvStoreFailure f => new DeleteRejected(f.Message),
                var other => new DeleteRejected($"the kvstore answered {other.GetType().Name}"),
            };
        }
        catch (Exception e)
        {
            reply = new DeleteRejected(KvStoreUnreachableException.IsOutage(e)
                ? KvStoreUnreachableException.Advice(e.Message)
                : $"the kvstore did not delete dataset '{m.DatasetId}': {e.Message}");
        }
        return new DatasetRemovalEnded(m.DatasetId, m.Requester, reply);
    }
}
