using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.TestKit;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Catalog;
using MapReduce.Tests.Support;
using Microsoft.AspNetCore.Builder;

namespace MapReduce.Tests.Api;

/// <summary>
/// The control API's answers to what clients send, over real HTTP on 127.0.0.1, with a real
/// kvstore actor on a real blob folder and catalog: sizes and ids are checked before any message
/// leaves the node, registrations answer as docs/api.md says, and logs are streamed.
/// </summary>
public sealed class ControlApiInputTests : ControlApiTestKit
{
    private static readonly string Code = "IEnumerable<(string, int)> Map(string d, string c) { yield return (c, 1); }\nint Reduce(string k, IEnumerable<int> v) => v.Sum();\n";
    private static readonly string CodeId = CodeBlob.IdOf(Encoding.UTF8.GetBytes(Code));

    /// <summary>The blob reads the API makes; a test may hold one key's read until it says so.</summary>
    private HeldBlobClient _blobs = null!;

    public override async Task InitializeAsync()
    {
        _blobs = new HeldBlobClient(new DirectBlobClient(Store, _ => { }));
        await StartAsync(_blobs);
    }

    /// <summary>
    /// A 1 MB field once became a message past remoting's frame limit, dropped without a word, and the
    /// client heard "kvstore not reachable" 30 s later. Now the API refuses it before asking anyone.
    /// </summary>
    [Fact]
    public async Task An_oversized_body_or_field_is_refused_at_once_with_one_line()
    {
        var watch = Stopwatch.StartNew();
        using (var huge = await Http.PostAsJsonAsync("/api/datasets", new ApiModels.DatasetRegistration("data-a", new string('x', 1 << 20), 1, BlobKeys.Manifest("data-a")), ApiModels.Json))
            await AssertErrorAsync(huge, HttpStatusCode.RequestEntityTooLarge, "the request body is larger than 65536 bytes; the control API takes ids and names, not data");
        using (var longSource = await Http.PostAsJsonAsync("/api/code", new ApiModels.CodeRegistration(CodeId, BlobKeys.Code(CodeId), new string('s', 5000)), ApiModels.Json))
            await AssertErrorAsync(longSource, HttpStatusCode.BadRequest, "source is 5000 characters long; at most 4096 are allowed");
        using (var longId = await Http.PostAsJsonAsync("/api/jobs", new ApiModels.JobRequest(CodeId, new string('d', 200), 2), ApiModels.Json))
            await AssertErrorAsync(longId, HttpStatusCode.BadRequest,
                $"dataset id '{new string('d', 80)}' is not valid: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100 characters");
        using (var deleteLong = await Http.DeleteAsync($"/api/datasets/{new string('d', 200)}"))
            await AssertErrorAsync(deleteLong, HttpStatusCode.BadRequest,
                $"dataset id '{new string('d', 80)}' is not valid: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100 characters");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"answered after {watch.Elapsed}");
        Master.ExpectNoMsg(TimeSpan.Zero);
        Assert.Null(Catalog.GetDataset("data-a"));
    }

    [Fact]
    public async Task A_code_id_that_is_not_a_scripts_hash_is_refused_with_400_and_not_stored()
    {
        using var response = await Http.PostAsJsonAsync("/api/code", new ApiModels.CodeRegistration("../../x", "code/../../x/task.csx", "task.csx"), ApiModels.Json);
        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "code id '../../x' is not valid: it is 'code-' and the first 16 hex digits of the script's SHA-256 (or 'proj-' and those of a job project's archive)");
        Assert.Null(Catalog.GetCode("../../x"));
    }

    [Fact]
    public async Task Registrations_answer_with_the_id_under_the_name_the_request_gave_it()
    {
        Store.Put(BlobKeys.Code(CodeId), Encoding.UTF8.GetBytes(Code));
        using (var code = await Http.PostAsJsonAsync("/api/code", new ApiModels.CodeRegistration(CodeId, BlobKeys.Code(CodeId), "task.csx"), ApiModels.Json))
        {
            Assert.Equal(HttpStatusCode.OK, code.StatusCode);
            Assert.Equal($"{{\"codeId\":\"{CodeId}\"}}", await code.Content.ReadAsStringAsync());
        }

        var chunk = new KvStoreProtocol.DocumentChunk("a.txt", 0, BlobKeys.Chunk("data-a", 0, 0), 3);
        Store.Put(chunk.ChunkKey, "ab\n"u8.ToArray());
        Store.Put(BlobKeys.Manifest("data-a"), new DatasetManifest("data-a", [chunk]).ToJson());
        using var dataset = await Http.PostAsJsonAsync("/api/datasets", new ApiModels.DatasetRegistration("data-a", "/in", 1, BlobKeys.Manifest("data-a")), ApiModels.Json);
        Assert.Equal(HttpStatusCode.OK, dataset.StatusCode);
        Assert.Equal("{\"datasetId\":\"data-a\"}", await dataset.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Deleting_a_dataset_that_does_not_exist_answers_404()
    {
        // As the master would answer, through its janitor and the kvstore, if it were asked.
        Master.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is MasterProtocol.DeleteDataset d) sender.Tell(new MasterProtocol.DeleteRejected($"dataset '{d.DatasetId}' is not in the store"));
            return AutoPilot.KeepRunning;
        }));
        using var response = await Http.DeleteAsync("/api/datasets/data-none");
        await AssertErrorAsync(response, HttpStatusCode.NotFound, "dataset 'data-none' is not in the store");
    }

    /// <summary>
    /// Every attempt's log used to be read into the master's memory before the first byte went out;
    /// now each is written as it is read: the client has the first while the last is still unread.
    /// </summary>
    [Fact]
    public async Task Logs_are_streamed_one_attempt_at_a_time()
    {
        var job = new JobId("job-20261130-080000-abcdef");
        var now = DateTime.UtcNow;
        Catalog.UpsertJob(new JobRow { ExecId = job.Value, CodeId = CodeId, DirId = "data-a", Status = ExecutionStatus.Failure, Reducers = 1, MapTasks = 2, SubmittedAt = now });
        var attempts = new[] { new AttemptId(job, TaskId.Map(0), 1), new AttemptId(job, TaskId.Map(1), 1) };
        Catalog.UpsertExecutions(attempts.Select(a => new ExecutionRow
        {
            ExecId = job.Value, AttemptId = a.Name, TaskId = a.Task.ToString(), ExecType = ExecutionType.Map, Status = ExecutionStatus.Failure,
            Worker = "w", Error = "boom", UpdatedAt = now, StartedAt = now,
        }).ToList());
        var first = "first log " + new string('a', 100_000);
        Store.Put(BlobKeys.TaskLog(attempts[0]), Encoding.UTF8.GetBytes(first));
        Store.Put(BlobKeys.TaskLog(attempts[1]), "second log"u8.ToArray());
        var release = _blobs.Hold(BlobKeys.TaskLog(attempts[1]));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var response = await Http.GetAsync($"/api/jobs/{job}/logs", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStreamAsync(timeout.Token);
        var received = new StringBuilder();
        var buffer = new byte[8192];
        while (!received.ToString().Contains(new string('a', 100_000), StringComparison.Ordinal))
        {
            var n = await body.ReadAsync(buffer, timeout.Token);
            Assert.True(n > 0, "the body ended before the first log");
            received.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        release();
        using var rest = new StreamReader(body);
        received.Append(await rest.ReadToEndAsync(timeout.Token));
        var logs = JsonSerializer.Deserialize<ApiModels.AttemptLog[]>(received.ToString(), ApiModels.Json)!;
        Assert.Equal([("m00000.1", first), ("m00001.1", "second log")], logs.Select(l => (l.Attempt, l.Log)));
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string error)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{response.StatusCode}: {body}");
        Assert.Equal(error, JsonSerializer.Deserialize<ApiModels.ApiError>(body, ApiModels.Json)!.Error);
    }
}
