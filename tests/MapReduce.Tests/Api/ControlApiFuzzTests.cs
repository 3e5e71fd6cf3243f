using System.Net;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.TestKit;
using CsCheck;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Catalog;
using MapReduce.Tests.Storage;
using MapReduce.Tests.Support;
using Microsoft.AspNetCore.Builder;

namespace MapReduce.Tests.Api;

/// <summary>
/// Random ids, query values and bodies (CsCheck) sent to every control API route over real HTTP
/// on 127.0.0.1, with a real kvstore actor and catalog and a master that answers as the real one
/// does for jobs it does not hold: no request is answered 500 or left unanswered; each refusal is
/// a 4xx with an error message; the id checks never throw.
/// </summary>
public sealed class ControlApiFuzzTests : ControlApiTestKit
{
    private static readonly JobId Job = new("job-20261207-120000-abcdef");

    public ControlApiFuzzTests()
    {
        // As the master answers about jobs it does not hold and requests it refuses.
        Master.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            sender.Tell(message switch
            {
                MasterProtocol.GetJobStatus s => new MasterProtocol.UnknownJob(s.JobId),
                MasterProtocol.CancelJob c => new MasterProtocol.UnknownJob(c.JobId),
                MasterProtocol.SubmitJob s => new MasterProtocol.JobRejected($"code '{s.CodeId}' is not in the store"),
                MasterProtocol.DeleteDataset d => new MasterProtocol.DeleteRejected($"dataset '{d.DatasetId}' is not in the store"),
                _ => new Status.Failure(new InvalidOperationException($"unexpected {message.GetType().Name}")),
            });
            return AutoPilot.KeepRunning;
        }));
    }

    public override async Task InitializeAsync()
    {
        // One ended job with one failed attempt, so the read model's routes have something to read.
        var now = DateTime.UtcNow;
        Catalog.UpsertJob(new JobRow { ExecId = Job.Value, CodeId = "code-0123456789abcdef", DirId = "data-a", Status = ExecutionStatus.Failure, Reducers = 1, MapTasks = 1, SubmittedAt = now });
        var attempt = new AttemptId(Job, TaskId.Map(0), 1);
        Catalog.UpsertExecutions([new ExecutionRow
        {
            ExecId = Job.Value, AttemptId = attempt.Name, TaskId = attempt.Task.ToString(), ExecType = ExecutionType.Map, Status = ExecutionStatus.Failure,
            Worker = "w", Error = "boom", UpdatedAt = now, StartedAt = now,
        }]);
        Store.Put(BlobKeys.TaskLog(attempt), "a log"u8.ToArray());
        await StartAsync(new DirectBlobClient(Store, _ => { }));
    }

    /// <summary>Ids as clients send them: real ones, near misses, any text, escapes of bytes that are not UTF-8, path tricks.</summary>
    private static readonly Gen<string> Segments = Gen.Frequency(
        (2, (IGen<string>)Gen.OneOf(Job.Value, "job-1", "data-a", "result-job-1", "code-0123456789abcdef", "m00000", "..", ".", "%2e%2e", "%00", "%FF%FE", "%2F", "a%2Fb", "%25", "~", "-")),
        (3, (IGen<string>)CodecPropertyTests.Text.Select(Uri.EscapeDataString)),
        (1, (IGen<string>)Gen.Byte.Array[1, 8].Select(bytes => string.Concat(bytes.Select(b => $"%{b:X2}")))),
        (1, (IGen<string>)Gen.Int[60, 300].Select(n => new string('j', n))));

    /// <summary>Query values: numbers in and out of int's range, words, nothing, escapes.</summary>
    private static readonly Gen<string> QueryValues = Gen.Frequency(
        (2, (IGen<string>)Gen.Long.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (1, (IGen<string>)Gen.OneOf("", "-1", "0", "2147483648", "1e3", "0x10", "m00000", "r00000", "%00", "%FF")),
        (2, (IGen<string>)CodecPropertyTests.Text.Select(Uri.EscapeDataString)));

    /// <summary>A JSON value of any kind, for one field of a body.</summary>
    private static readonly Gen<string> JsonValues = Gen.Frequency(
        (3, (IGen<string>)CodecPropertyTests.Text.Select(t => JsonSerializer.Serialize(t))),
        (2, (IGen<string>)Gen.OneOf("\"code-0123456789abcdef\"", "\"data-a\"", "\"result-x\"", "\"data/x/manifest\"", "\"../../x\"", "\"code/../x\"", "\"a\\n\"")),
        (1, (IGen<string>)Gen.Long.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (1, (IGen<string>)Gen.OneOf("null", "true", "[]", "{}", "1.5", "-0", "1e400", "\"\"")));

    /// <summary>Bodies: objects of the request's fields (and others) with any values, and text that is not JSON.</summary>
    private static readonly Gen<string> Bodies = Gen.Frequency(
        (4, (IGen<string>)Gen.Select(Gen.OneOf("codeId", "datasetId", "reducers", "blobKey", "source", "documents", "manifestKey", "other", "CODEID"), JsonValues).Array[0, 7]
            .Select(fields => "{" + string.Join(",", fields.Select(f => $"\"{f.Item1}\":{f.Item2}")) + "}")),
        (1, (IGen<string>)Gen.OneOf("", "null", "[]", "{", "\"x\"", "{\"codeId\":", "\u0000", "{}}")),
        (1, (IGen<string>)CodecPropertyTests.Text));

    private static readonly Gen<HttpRequestMessage> Requests = Gen.Frequency(
        (3, (IGen<HttpRequestMessage>)Gen.Select(Gen.OneOf("", "/progress", "/attempts", "/logs", "/cancel"), Segments, QueryValues, QueryValues).Select((route, id, a, b) =>
            new HttpRequestMessage(route == "/cancel" ? HttpMethod.Post : HttpMethod.Get,
                route switch
                {
                    "/progress" => $"/api/jobs/{id}/progress?maps={a}&reduces={b}",
                    "/logs" => $"/api/jobs/{id}/logs?task={a}",
                    _ => $"/api/jobs/{id}{route}",
                }))),
        (1, (IGen<HttpRequestMessage>)Segments.Select(id => new HttpRequestMessage(HttpMethod.Delete, $"/api/datasets/{id}"))),
        (1, (IGen<HttpRequestMessage>)QueryValues.Select(limit => new HttpRequestMessage(HttpMethod.Get, $"/api/jobs?limit={limit}"))),
        (3, (IGen<HttpRequestMessage>)Gen.Select(Gen.OneOf("/api/jobs", "/api/datasets", "/api/code"), Bodies).Select((route, body) =>
            new HttpRequestMessage(HttpMethod.Post, route) { Content = new StringContent(body, Encoding.UTF8, "application/json") })));

    [Fact]
    public void No_request_is_answered_with_a_server_error_and_every_refusal_says_why()
    {
        Requests.Sample(request =>
        {
            var what = $"{request.Method} {request.RequestUri}";
            using var response = Http.Send(request);
            var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            var status = (int)response.StatusCode;
            Assert.True(status is 200 or 202 or 400 or 404 or 405 or 409 or 413, $"{what}: {status} {body}");
            // A route's own refusal carries its reason; only a path that matches no route (the router's 404, 405) comes without one.
            if (status >= 400 && body.Length > 0)
                Assert.False(string.IsNullOrWhiteSpace(JsonSerializer.Deserialize<ApiModels.ApiError>(body, ApiModels.Json)!.Error), $"{what}: {body}");
            // Kestrel itself refuses a NUL in the path (400, no body) before any route sees it.
            if (status is 400 or 409 or 413 && !request.RequestUri!.OriginalString.Contains("%00", StringComparison.Ordinal)) Assert.True(body.Length > 0, $"{what}: {status} without a reason");
        }, iter: 150, threads: 1, print: r => $"{r.Method} {r.RequestUri} {(r.Content is null ? "" : r.Content.ReadAsStringAsync().GetAwaiter().GetResult())}");
    }

    [Fact]
    public void The_id_checks_take_any_text_without_throwing()
    {
        CodecPropertyTests.AnyUtf16.Null().Sample(id =>
        {
            _ = DatasetIds.Problem(id);
            _ = DatasetIds.RegistrationProblem(id);
            _ = CodeBlob.IdProblem(id);
            _ = BlobKey.Problem(id);
        }, iter: 5000, threads: 1);
    }
}
