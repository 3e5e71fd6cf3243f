using System.Net;
using System.Net.Http.Json;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using MapReduce.Actors.Api;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Api;

/// <summary>
/// The control API on a node whose kvstore cannot be used, over real HTTP on 127.0.0.1: a request
/// that needs the kvstore gets 503 and one line saying why, whether no kvstore is up or the one
/// that is up does not answer. The node here has the kvstore role; it is not up until it joins.
/// </summary>
public sealed class KvStoreAwayApiTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("""
    akka.loglevel = WARNING
    akka.actor.provider = cluster
    akka.remote.dot-netty.tcp.hostname = 127.0.0.1
    akka.remote.dot-netty.tcp.port = 0
    akka.cluster.roles = [kvstore]
    akka.cluster.log-info = off
    """))
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_request_that_needs_the_kvstore_gets_503_and_one_line_when_none_is_up_or_it_does_not_answer()
    {
        using var folder = new TempFolder();
        var catalog = new CatalogStore(SqlLocation.SqliteFile(folder.File("catalog.db")));
        var blobs = new BlobClient(new FixedDataChannel(new KvStoreProtocol.DataEndpoint("http://127.0.0.1:9/", folder.Path, "none")), _ => { }, shortCircuit: false);
        var app = HttpEndpoint.CreateBuilder("127.0.0.1", 0, certificate: null).Build();
        new ControlApiRoutes(Sys, CreateTestProbe().Ref, catalog, new KvStoreLocator(Sys), blobs, kvstoreTimeout: Wait).Map(app);
        await using var server = await HttpEndpoint.StartAsync(app, "127.0.0.1", https: false, TimeSpan.FromSeconds(2));
        using var http = new HttpClient { BaseAddress = server.BaseUrl };
        var code = new ApiModels.CodeRegistration("code-0123456789abcdef", "code/code-0123456789abcdef/task.csx", "// task");

        // This node has not joined: no kvstore member is up.
        using (var none = await http.PostAsJsonAsync("/api/code", code, ApiModels.Json))
            await AssertUnavailableAsync(none, "the kvstore is not reachable (no kvstore node is up in the cluster after 1 s); is the kvstore node running?");

        // Up now, with a kvstore actor that says where its data channel is but answers nothing else.
        Sys.ActorOf(Props.Create(() => new SilentKvStore(folder.Path)), "kvstore");
        var cluster = Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        await AwaitConditionAsync(() => Task.FromResult(cluster.SelfMember.Status == MemberStatus.Up), TimeSpan.FromSeconds(20));
        using (var silent = await http.PostAsJsonAsync("/api/code", code, ApiModels.Json))
            await AssertUnavailableAsync(silent, "the kvstore is not reachable (it did not answer within 1 s); is the kvstore node running?");
        using (var store = await http.GetAsync("/api/store"))
            Assert.Equal(HttpStatusCode.OK, store.StatusCode); // the same kvstore answers what it can
    }

    private static async Task AssertUnavailableAsync(HttpResponseMessage response, string error)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(new ApiModels.ApiError(error), await response.Content.ReadFromJsonAsync<ApiModels.ApiError>(ApiModels.Json));
    }

    private sealed class SilentKvStore : ReceiveActor
    {
        public SilentKvStore(string root) =>
            Receive<KvStoreProtocol.GetDataEndpoint>(_ => Sender.Tell(new KvStoreProtocol.DataEndpoint("http://127.0.0.1:9/", root, "silent")));
    }
}
