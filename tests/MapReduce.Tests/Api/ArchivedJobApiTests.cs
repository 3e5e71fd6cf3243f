using System.Net;
using System.Net.Http.Json;
using Akka.Actor;
using Akka.Configuration;
using MapReduce.Actors.Api;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Api;

/// <summary>
/// A job the master archived is unknown to it: the control API answers for it from its own read
/// model, the catalog, over real HTTP on 127.0.0.1 (progress, and cancelling it is refused).
/// </summary>
public sealed class ArchivedJobApiTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("akka.loglevel = WARNING"))
{
    private const string Job = "job-20261130-080000-abcdef";

    [Fact]
    public async Task Progress_and_cancel_of_an_archived_job_are_answered_from_the_catalog()
    {
        using var folder = new TempFolder();
        var catalog = new CatalogStore(SqlLocation.SqliteFile(folder.File("catalog.db")));
        catalog.EnsureCreated();
        var at = new DateTime(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc);
        catalog.UpsertJob(new JobRow
        {
            ExecId = Job, CodeId = "code-1", DirId = "data-1", Status = ExecutionStatus.Success, ResultDirId = $"result-{Job}", Reducers = 2, MapTasks = 1,
            SubmittedAt = at, FinishedAt = at.AddSeconds(3),
        });
        catalog.UpsertExecutions(
        [
            Row("m00000.1", ExecutionStatus.Success), Row("r00000.1", ExecutionStatus.Failure), Row("r00000.2", ExecutionStatus.Success), Row("r00001.1", ExecutionStatus.Success),
        ]);
        catalog.RegisterDataset(new DatasetRow { DirId = $"result-{Job}", Kind = DatasetKind.Output, Documents = 2, Chunks = 2, CreatedAt = at },
        [
            new ChunkRow { DirId = $"result-{Job}", DocId = "part-00000", ChunkId = $"jobs/{Job}/reduce/r00000.2/part-00000" },
            new ChunkRow { DirId = $"result-{Job}", DocId = "part-00001", ChunkId = $"jobs/{Job}/reduce/r00001.1/part-00001" },
        ]);
        // The master holds no such job.
        var master = CreateTestProbe();
        master.SetAutoPilot(new Akka.TestKit.DelegateAutoPilot((sender, message) =>
        {
            sender.Tell(message switch
            {
                MasterProtocol.GetJobStatus q => new MasterProtocol.UnknownJob(q.JobId),
                MasterProtocol.CancelJob c => new MasterProtocol.UnknownJob(c.JobId),
                _ => message,
            });
            return Akka.TestKit.AutoPilot.KeepRunning;
        }));
        var blobs = new BlobClient(new FixedDataChannel(new KvStoreProtocol.DataEndpoint("http://127.0.0.1:9/", folder.Path, "none")), _ => { }, shortCircuit: false);
        var app = HttpEndpoint.CreateBuilder("127.0.0.1", 0, certificate: null).Build();
        new ControlApiRoutes(Sys, master.Ref, catalog, new KvStoreLocator(Sys), blobs).Map(app);
        await using var server = await HttpEndpoint.StartAsync(app, "127.0.0.1", https: false, TimeSpan.FromSeconds(2));
        using var http = new HttpClient { BaseAddress = server.BaseUrl };

        using (var progress = await http.GetAsync($"/api/jobs/{Job}/progress?maps=0&reduces=0"))
        {
            Assert.Equal(HttpStatusCode.OK, progress.StatusCode);
            var body = (await progress.Content.ReadFromJsonAsync<ApiModels.JobProgress>(ApiModels.Json))!;
            Assert.Equal((Job, ApiModels.States.Succeeded, 1, 1, 2, 2, (string?)null), (body.Id, body.State, body.MapsDone, body.MapsTotal, body.ReducesDone, body.ReducesTotal, body.Error));
            Assert.Equal([$"jobs/{Job}/reduce/r00000.2/part-00000", $"jobs/{Job}/reduce/r00001.1/part-00001"], body.Parts);
        }
        using (var cancel = await http.PostAsync($"/api/jobs/{Job}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
            Assert.Equal(new ApiModels.ApiError($"job {Job} has already succeeded; only a running job can be cancelled"),
                await cancel.Content.ReadFromJsonAsync<ApiModels.ApiError>(ApiModels.Json));
        }
        using (var unknown = await http.GetAsync("/api/jobs/job-20261130-000000-000000/progress"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            Assert.Equal(new ApiModels.ApiError("no job job-20261130-000000-000000"), await unknown.Content.ReadFromJsonAsync<ApiModels.ApiError>(ApiModels.Json));
        }
    }

    private static ExecutionRow Row(string attempt, string status) => new()
    {
        ExecId = Job, AttemptId = attempt, TaskId = attempt[..6], ExecType = attempt[0] == 'm' ? ExecutionType.Map : ExecutionType.Reduce,
        Status = status, UpdatedAt = new DateTime(2026, 11, 30, 8, 0, 1, DateTimeKind.Utc),
    };
}
