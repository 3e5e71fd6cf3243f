using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;

namespace MapReduce.Tests.Api;

/// <summary>
/// mapreduce.http.master-timeout and slow-command-timeout reach the control API: a master that does
/// not answer (the probe never does) gets a command answered 503 after them, saying how long it waited.
/// </summary>
public sealed class ControlApiWaitTests : ControlApiTestKit
{
    private static readonly TimeSpan MasterTimeout = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan SlowCommandTimeout = TimeSpan.FromMilliseconds(600);

    protected override ControlApiSettings? Waits => new(MasterTimeout, SlowCommandTimeout);

    public override Task InitializeAsync() => StartAsync(new DirectBlobClient(Store, _ => { }));

    [Fact]
    public async Task A_cancel_waits_master_timeout_and_a_deletion_slow_command_timeout()
    {
        var clock = Stopwatch.StartNew();
        await AssertUnavailableAsync(await Http.PostAsync("/api/jobs/job-20261130-000000-000000/cancel", null), "300 ms");
        Assert.InRange(clock.Elapsed, MasterTimeout, TimeSpan.FromSeconds(5));

        Catalog.RegisterDataset(new DatasetRow { DirId = "data-1", Kind = DatasetKind.Input, Documents = 0, Chunks = 0, CreatedAt = DateTime.UtcNow }, []);
        clock.Restart();
        await AssertUnavailableAsync(await Http.DeleteAsync("/api/datasets/data-1"), "600 ms");
        Assert.InRange(clock.Elapsed, SlowCommandTimeout, TimeSpan.FromSeconds(5));
    }

    private static async Task AssertUnavailableAsync(HttpResponseMessage response, string waited)
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(new ApiModels.ApiError($"the master did not answer within {waited}; is a master node up? (a take-over takes a few seconds)"),
                await response.Content.ReadFromJsonAsync<ApiModels.ApiError>(ApiModels.Json));
        }
    }
}
