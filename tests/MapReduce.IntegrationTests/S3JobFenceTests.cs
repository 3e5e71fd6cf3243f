using MapReduce.Storage.Blobs;

namespace MapReduce.IntegrationTests;

/// <summary>
/// The fence around an ended job's folder in an object store (s3rver, no cluster): a write after
/// the job's end marker is refused and leaves no object; a write racing the clean-up leaves none in
/// any order of their steps (the store's hook between the PutObject and the look for the marker).
/// </summary>
public sealed class S3JobFenceTests : IAsyncLifetime
{
    private S3Server? _s3;
    private S3BlobStore? _store;

    private S3BlobStore Store => _store ?? throw new InvalidOperationException("s3rver not started");

    public async Task InitializeAsync()
    {
        if (S3Server.Unavailable is not null) return;
        _s3 = await S3Server.StartAsync();
        _store = _s3.Client("fence");
    }

    public async Task DisposeAsync()
    {
        _store?.Dispose();
        if (_s3 is not null) await _s3.DisposeAsync();
    }

    private static string Refusal(string job, string key) => $"job {job} has ended; this attempt's output is discarded ({key} was not kept)";

    private static Task<long> PutAsync(S3BlobStore store, string key, byte[] data) => store.PutAsync(key, new MemoryStream(data), data.Length);

    [RequiresFact(typeof(S3Server))]
    public async Task A_write_into_an_ended_jobs_folder_is_refused_and_leaves_no_object_and_a_running_jobs_is_kept()
    {
        const string job = "job-20261208-020000-abcdef";
        const string kept = $"jobs/{job}/reduce/r00000.1/part-00000";
        await PutAsync(Store, kept, [1, 2, 3]); // stored before the job ended (an accepted part)
        await JobFence.EndAsync(Store, job);
        await JobFence.EndAsync(Store, job); // asked again: the same empty blob

        const string late = $"jobs/{job}/map/m00000.2/p00000";
        Assert.Equal(Refusal(job, late), (await Assert.ThrowsAsync<JobEndedException>(() => PutAsync(Store, late, [4, 5]))).Message);
        // Over the kvstore's data channel the body is not seekable (it is spooled first): the same.
        const string relayed = $"jobs/{job}/reduce/r00000.2/part-00000";
        Assert.Equal(Refusal(job, relayed), (await Assert.ThrowsAsync<JobEndedException>(() => Store.PutAsync(relayed, new OneWayStream([6]), 1))).Message);
        // The same bytes again at a blob it kept: refused, and the blob stays.
        Assert.Equal(Refusal(job, kept), (await Assert.ThrowsAsync<JobEndedException>(() => PutAsync(Store, kept, [1, 2, 3]))).Message);

        Assert.Equal([$"fence/{kept}"], await Store.ListAsync($"jobs/{job}/"));
        const string running = "job-20261208-020000-abcde1";
        Assert.Equal(1, await PutAsync(Store, $"jobs/{running}/map/m00000.1/p00000", [7]));
        Assert.Equal([$"fence/jobs/{running}/map/m00000.1/p00000"], await Store.ListAsync($"jobs/{running}/"));
    }

    /// <summary>
    /// A write publishes (P, the PutObject) then looks for the marker (C); the clean-up marks (M) then
    /// deletes (D, ListObjectsV2 + DeleteObjects). All six orders: no object is left, and the write is
    /// refused exactly when C follows M.
    /// </summary>
    [RequiresFact(typeof(S3Server))]
    public async Task A_write_racing_the_clean_up_leaves_no_object_in_any_order()
    {
        string[] orders = ["M D P C", "M P D C", "M P C D", "P M D C", "P M C D", "P C M D"];
        foreach (var (order, n) in orders.Select((o, i) => (o, i)))
        {
            var job = $"job-20261208-020000-00000{n}";
            var key = $"jobs/{job}/map/m00000.2/p00001";
            var steps = order.Split(' ').ToList();
            var (p, c) = (steps.IndexOf("P"), steps.IndexOf("C"));
            async Task Do(IEnumerable<string> these)
            {
                foreach (var step in these)
                    if (step == "M") await JobFence.EndAsync(Store, job);
                    else await Store.DeleteFolderAsync($"jobs/{job}");
            }

            await Do(steps.Take(p));
            Store.AfterPut = async put =>
            {
                if (put != key) return; // the marker's own put
                Assert.True(await Store.ExistsAsync(key), order); // published: the clean-up can see it from here on
                await Do(steps.Skip(p + 1).Take(c - p - 1));
            };
            var refused = await Record.ExceptionAsync(() => PutAsync(Store, key, [1, 2, 3]));
            Store.AfterPut = null;
            await Do(steps.Skip(c + 1));

            if (steps.IndexOf("M") < c) Assert.Equal(Refusal(job, key), Assert.IsType<JobEndedException>(refused).Message);
            else Assert.Null(refused);
            Assert.True((await Store.ListAsync($"jobs/{job}/")).Count == 0, $"{order}: an object is left");
            Assert.True(await Store.ExistsAsync(JobFence.Marker(job)), order);
        }
    }

    /// <summary>A body that can be read once, front to back, as a request the kvstore relays.</summary>
    private sealed class OneWayStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
