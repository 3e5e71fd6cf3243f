namespace MapReduce.Storage.Blobs;

/// <summary>
/// The fence around an ended job's folder: once a job's clean-up has stored the job's end marker
/// (<see cref="MarkerOf(string)"/>, <c>ended/JOB</c>), no blob under <c>jobs/JOB/</c> stays
/// published by a write, whatever the timing. An attempt on a worker that was paused (SIGSTOP, a
/// long GC) or cut off may store its output long after its job ended; the stores
/// (<see cref="LocalBlobStore.Commit"/>, <see cref="S3BlobStore.PutAsync"/>) look for the marker
/// after they publish such a blob, and take it back when it is there.
/// </summary>
/// <remarks>
/// <para>
/// Why nothing is left, whatever the interleaving. A writer publishes its blob (P), then looks for
/// the marker (C); the clean-up stores the marker (M), then deletes the job's leftovers (D). Each
/// step is atomic in the store (a rename or an exists in the folder; S3 is strongly consistent for
/// puts, heads and lists). If C finds no marker, C came before M, so P came before M and before D:
/// D sees the blob and deletes it (or keeps it, when the job keeps it: an accepted part or run, which
/// no write after the job's end can produce). If C finds the marker, the writer deletes its blob
/// itself. No timer, so a master that fails over or a local cluster that stops loses nothing.
/// </para>
/// <para>
/// Why <c>ended/JOB</c> and not a file inside <c>jobs/JOB/</c>: deleting the job's folder (a failed
/// job's clean-up deletes all of it) must not delete the marker, and the marker's own write must not
/// be fenced; key segments cannot start with '.', so a hidden name inside the folder is no key
/// either. One empty blob per job stays for good (as task logs do): a paused writer may wake at any
/// time, so there is no moment after which the marker could go.
/// </para>
/// </remarks>
public static class JobFence
{
    /// <summary>Where jobs write: <c>jobs/JOB/...</c>, every blob there fenced by its job's marker.</summary>
    public const string JobsFolder = "jobs";

    /// <summary>Where the end markers lie, one empty blob per ended job: outside <see cref="JobsFolder"/>.</summary>
    public const string EndedFolder = "ended";

    /// <summary>The end marker of the job <paramref name="jobId"/>.</summary>
    public static string Marker(string jobId) => $"{EndedFolder}/{jobId}";

    /// <summary>The job whose folder <paramref name="key"/> lies in (<c>jobs/JOB/...</c>), or null for any other key.</summary>
    public static string? JobOf(string key)
    {
        var prefix = JobsFolder + "/";
        if (!key.StartsWith(prefix, StringComparison.Ordinal)) return null;
        var end = key.IndexOf('/', prefix.Length);
        return end < 0 ? null : key[prefix.Length..end];
    }

    /// <summary>The end marker that fences <paramref name="key"/>, or null when the key is in no job's folder.</summary>
    public static string? MarkerOf(string key) => JobOf(key) is { } job ? Marker(job) : null;

    /// <summary>
    /// Records that the job ended: from now on no write into its folder stays. Idempotent (the same
    /// empty blob again is accepted), so a clean-up asked again, or by a master that took over, succeeds.
    /// </summary>
    public static Task EndAsync(IBlobStore store, string jobId, CancellationToken ct = default) =>
        store.PutAsync(Marker(jobId), Stream.Null, 0, ct);
}

/// <summary>
/// A write into the folder of a job that has ended: what it published was taken back (the job's
/// clean-up is over, nobody reads it). Not a failure of the attempt: its job is over anyway.
/// </summary>
public sealed class JobEndedException(string jobId, string key)
    : IOException($"job {jobId} has ended; this attempt's output is discarded ({key} was not kept)")
{
    public string JobId { get; } = jobId;

    public string Key { get; } = key;
}
