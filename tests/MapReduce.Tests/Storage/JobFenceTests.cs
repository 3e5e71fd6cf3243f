using MapReduce.Storage.Blobs;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Storage;

/// <summary>
/// The fence around an ended job's folder in the kvstore's folder store (a real LocalBlobStore in a
/// temp folder): a write after the job's end marker is refused and leaves nothing, whatever its
/// path; a write racing the clean-up leaves nothing in any order of their steps; other jobs and
/// other keys are untouched.
/// </summary>
public sealed class JobFenceTests : IDisposable
{
    private const string Job = "job-20261208-010203-abcdef";
    private const string Run = $"jobs/{Job}/map/m00000.2/p00001";

    private readonly TempFolder _folder = new();
    private readonly LocalBlobStore _store;

    public JobFenceTests() => _store = new LocalBlobStore(_folder.File("kvstore"));

    public void Dispose()
    {
        _store.Dispose();
        _folder.Dispose();
    }

    /// <summary>Every file in the store under a job's folder: blobs, checksums (both at the blob's key).</summary>
    private List<string> FilesOf(string job) =>
        new[] { LocalBlobStore.BlobsFolder, LocalBlobStore.ChecksumsFolder }
            .Select(sub => Path.Combine(_store.Root, sub, JobFence.JobsFolder, job))
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            .ToList();

    private List<string> TempFiles() => Directory.EnumerateFiles(Path.Combine(_store.Root, "incoming")).ToList();

    private static string Refusal(string key) => $"job {Job} has ended; this attempt's output is discarded ({key} was not kept)";

    [Fact]
    public void Job_folders_and_their_markers()
    {
        Assert.Equal(Job, JobFence.JobOf(Run));
        Assert.Equal($"ended/{Job}", JobFence.MarkerOf(Run));
        Assert.Null(JobFence.MarkerOf($"logs/{Job}/m00000.1.log"));
        Assert.Null(JobFence.MarkerOf($"ended/{Job}"));
        Assert.Null(JobFence.MarkerOf("data/d/000000-000000"));
        Assert.Null(JobFence.MarkerOf("jobsx/j/a"));
        Assert.Null(JobFence.MarkerOf("jobs/j")); // a key, not a folder
    }

    [Fact]
    public async Task Every_write_into_an_ended_jobs_folder_is_refused_and_leaves_nothing()
    {
        await JobFence.EndAsync(_store, Job);
        var source = _folder.File("run");
        await File.WriteAllTextAsync(source, "a\t1\n");

        var writes = new (string Key, Action Write)[]
        {
            ($"jobs/{Job}/map/m00000.2/p00000", () => _store.Put($"jobs/{Job}/map/m00000.2/p00000", [1, 2, 3])),
            ($"jobs/{Job}/map/m00000.2/p00001", () => _store.PutAsync($"jobs/{Job}/map/m00000.2/p00001", new MemoryStream([1, 2])).GetAwaiter().GetResult()),
            ($"jobs/{Job}/map/m00000.2/p00002", () => _store.PutAsync($"jobs/{Job}/map/m00000.2/p00002", new MemoryStream([1, 2]), 2).GetAwaiter().GetResult()),
            ($"jobs/{Job}/map/m00000.2/p00003", () => _store.PutFileRange($"jobs/{Job}/map/m00000.2/p00003", source, 0, 4)),
            ($"jobs/{Job}/reduce/r00000.3/part-00000", () => _store.PutOwnedFile($"jobs/{Job}/reduce/r00000.3/part-00000", source)),
        };
        foreach (var (key, write) in writes)
        {
            var e = Assert.Throws<JobEndedException>(write);
            Assert.Equal(Refusal(key), e.Message);
            Assert.Equal(Job, e.JobId);
            Assert.False(_store.Exists(key));
            Assert.Null(_store.ChecksumOf(key));
        }
        Assert.Empty(FilesOf(Job));
        Assert.False(Directory.Exists(Path.Combine(_store.Root, LocalBlobStore.BlobsFolder, JobFence.JobsFolder, Job))); // no empty folders either
        Assert.Empty(TempFiles());
        Assert.True(_store.Exists(JobFence.Marker(Job)));
    }

    [Fact]
    public async Task A_running_job_other_keys_and_a_second_end_are_unaffected()
    {
        await JobFence.EndAsync(_store, Job);
        await JobFence.EndAsync(_store, Job); // a clean-up asked again (a take-over) succeeds

        const string running = "job-20261208-010203-abcde1";
        _store.Put($"jobs/{running}/map/m00000.1/p00000", [7]);
        _store.Put($"jobs/{Job}0/map/m00000.1/p00000", [8]); // a longer id that starts with the ended one's
        _store.Put($"logs/{Job}/m00000.2.log", [9]); // logs stay, as every attempt's
        Assert.Equal([7], _store.ReadAll($"jobs/{running}/map/m00000.1/p00000"));
        Assert.Equal([8], _store.ReadAll($"jobs/{Job}0/map/m00000.1/p00000"));
        Assert.Equal([9], _store.ReadAll($"logs/{Job}/m00000.2.log"));
        Assert.Equal(0, _store.LengthOf(JobFence.Marker(Job)));
    }

    [Fact]
    public async Task A_blob_the_job_stored_before_it_ended_is_kept_and_the_same_bytes_again_are_refused_without_deleting_it()
    {
        // An accepted part of a job that succeeded stays (StoreJanitor.Leftovers does not name it).
        const string part = $"jobs/{Job}/reduce/r00000.1/part-00000";
        _store.Put(part, [1, 2, 3]);
        await JobFence.EndAsync(_store, Job);

        Assert.Equal(Refusal(part), Assert.Throws<JobEndedException>(() => _store.Put(part, [1, 2, 3])).Message);
        Assert.Equal([1, 2, 3], _store.ReadAll(part));
    }

    /// <summary>
    /// A late blob lands in the job's folder while the clean-up deletes it (after the files, before the
    /// folders): the folder is not empty when its turn comes, and the deletion goes over it again
    /// instead of giving up with the rest of the leftovers still there.
    /// </summary>
    [Fact]
    public void A_blob_that_lands_while_the_jobs_folder_is_deleted_is_deleted_with_the_rest()
    {
        _store.Put($"jobs/{Job}/map/m00000.1/p00000", [1]);
        _store.Put($"jobs/{Job}/map/m00001.1/p00000", [2]);
        _store.Put($"jobs/{Job}/reduce/r00000.2/part-00000", [3]);
        var folder = _store.PathOf($"jobs/{Job}");
        var passes = 0;
        _store.BeforeFoldersGo = path =>
        {
            if (path == folder && passes++ == 0) _store.Put($"jobs/{Job}/map/m00002.1/p00000", [4]);
        };

        Assert.Equal(4, _store.DeleteFolder($"jobs/{Job}"));

        Assert.Equal(2, passes);
        Assert.False(Directory.Exists(folder));
        // Its checksum went with the others.
        Assert.DoesNotContain(Directory.EnumerateFiles(_folder.Path, "*", SearchOption.AllDirectories), f => f.Contains(Job, StringComparison.Ordinal));
    }

    /// <summary>The clean-up's steps: M stores the end marker, D deletes the job's folder (a failed job's leftovers).</summary>
    private void Mark() => JobFence.EndAsync(_store, Job).GetAwaiter().GetResult();

    private void Delete() => _store.DeleteFolder($"jobs/{Job}");

    /// <summary>
    /// A write publishes (P) then looks for the marker (C); the clean-up marks (M) then deletes (D).
    /// All six orders of the two pairs, M and D put before the write, between P and C (the store's
    /// hook), or after it: none leaves a file, and the write is refused exactly when C follows M.
    /// </summary>
    [Theory]
    [InlineData("M D P C")]
    [InlineData("M P D C")]
    [InlineData("M P C D")]
    [InlineData("P M D C")]
    [InlineData("P M C D")]
    [InlineData("P C M D")]
    public void A_write_racing_the_clean_up_leaves_nothing_in_any_order(string order)
    {
        var steps = order.Split(' ').ToList();
        var (p, c) = (steps.IndexOf("P"), steps.IndexOf("C"));
        var before = steps.Take(p).ToList();
        var between = steps.Skip(p + 1).Take(c - p - 1).ToList();
        var after = steps.Skip(c + 1).ToList();
        void Do(List<string> these)
        {
            foreach (var step in these)
                if (step == "M") Mark();
                else Delete();
        }

        Do(before);
        _store.AfterPublish = key =>
        {
            if (key != Run) return; // the marker's own write
            Assert.True(_store.Exists(key)); // published: the clean-up can see it from here on
            Do(between);
        };
        var refused = Record.Exception(() => _store.Put(Run, [1, 2, 3]));
        _store.AfterPublish = null;
        Do(after);

        if (steps.IndexOf("M") < c) Assert.Equal(Refusal(Run), Assert.IsType<JobEndedException>(refused).Message);
        else Assert.Null(refused);
        Assert.Empty(FilesOf(Job));
        Assert.Empty(TempFiles());
        Assert.True(_store.Exists(JobFence.Marker(Job)));
    }
}
