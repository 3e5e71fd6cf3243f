using Akka.Actor;
using MapReduce.Actors.Protocol;
using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// Status questions held by the master (long polls): each is answered as soon as its job's counts
/// differ from what the asker knew, the job ends, what the jobs wait for changes (the master then
/// answers them all, see <see cref="AnswerAll"/>), or it has waited long enough. A change of counts
/// answers a question only once it has been held <paramref name="minHeld"/> (the master's
/// status-interval): a client that follows a job asks again at once, and would otherwise ask once per
/// finished task. Until then the change waits for the next event of the job or the master's tick.
/// </summary>
public sealed class StatusWatchers(WaitTracker waits, TimeSpan minHeld = default)
{
    private readonly record struct Waiting(IActorRef Asker, DateTime Since, int KnownMapsDone, int KnownReducesDone);

    private readonly Dictionary<JobId, List<Waiting>> _waiting = new();

    public IReadOnlyCollection<JobId> Jobs => _waiting.Keys;

    /// <summary>The job's status; a running job carries what it waits for (<paramref name="waitingFor"/>).</summary>
    public static JobStatus StatusOf(JobState job, Wait[]? waitingFor = null) => new(
        job.Id, job.Stage, job.MapsDone, job.Maps.Count, job.ReducesDone, job.Reduces.Count, job.Error,
        job.Stage == JobStage.Succeeded ? job.PartAttempts() : [],
        job.IsFinished ? [] : waitingFor ?? []);

    /// <summary>Answers at once when the asker is behind; otherwise holds the question.</summary>
    public void Ask(GetJobStatus question, IActorRef asker, JobState job, DateTime now)
    {
        var status = StatusOf(job, waits.Current);
        if (Changed(status, question.KnownMapsDone, question.KnownReducesDone))
        {
            asker.Tell(status);
            return;
        }
        if (!_waiting.TryGetValue(job.Id, out var list)) _waiting[job.Id] = list = [];
        list.Add(new Waiting(asker, now, question.KnownMapsDone, question.KnownReducesDone));
    }

    /// <summary>
    /// Answers the held questions about this job that its state now answers (a change of counts:
    /// those held since <paramref name="now"/> minus the minimum at least; without a time, all), or
    /// (with <paramref name="heldSince"/>) that waited since before then.
    /// </summary>
    public void Answer(JobState? job, JobId id, DateTime? heldSince = null, DateTime? now = null)
    {
        if (!_waiting.TryGetValue(id, out var list)) return;
        if (job is null)
        {
            foreach (var w in list) w.Asker.Tell(new UnknownJob(id));
            _waiting.Remove(id);
            return;
        }
        var status = StatusOf(job, waits.Current);
        list.RemoveAll(w =>
        {
            var answers = status.IsFinished || (Changed(status, w.KnownMapsDone, w.KnownReducesDone) && (now is not { } at || at - w.Since >= minHeld));
            if (!answers && (heldSince is not { } cutoff || w.Since > cutoff)) return false;
            w.Asker.Tell(status);
            return true;
        });
        if (list.Count == 0) _waiting.Remove(id);
    }

    /// <summary>Answers every held question now (what the jobs wait for has changed); <paramref name="find"/> gives each job's state, null once forgotten.</summary>
    public void AnswerAll(Func<JobId, JobState?> find)
    {
        foreach (var id in _waiting.Keys.ToList()) Answer(find(id), id, heldSince: DateTime.MaxValue);
    }

    private static bool Changed(JobStatus status, int knownMaps, int knownReduces) =>
        status.IsFinished || status.MapsDone != knownMaps || status.ReducesDone != knownReduces;
}
