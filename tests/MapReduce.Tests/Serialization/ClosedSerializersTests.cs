using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Client;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using Akka.Streams;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Serialization;

namespace MapReduce.Tests.Serialization;

/// <summary>
/// A node reads messages only with the serializers the cluster needs: the project's own and those
/// of Akka's own messages. Akka's JSON serializer (id 1) once built, on a kvstore, whatever type a
/// peer that never joined named in a message.
/// </summary>
public sealed class ClosedSerializersTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.port = 0").WithFallback(MapReduceSettings.LoadConfig()))
{
    /// <summary>Stands for a gadget: a type whose construction does something. It counts its constructions.</summary>
    public sealed class Gadget
    {
        public static int Built;

        public Gadget() => Interlocked.Increment(ref Built);

        public string Path { get; set; } = "";
    }

    /// <summary>
    /// What the nodes' messages need, and nothing else: the project's two, byte arrays and primitives,
    /// and Akka's for remoting (Identify, heartbeats, watch), actor selections, cluster gossip and the
    /// singleton's hand-over. Akka.Persistence's own serializers are not among them: the journal
    /// stores events with the project's serializer.
    /// </summary>
    private static readonly Dictionary<string, string> Needed = new()
    {
        ["hyperion"] = "MapReduce.Actors.Serialization.ClusterMessageSerializer, MapReduce.Actors",
        ["mapreduce-journal"] = "MapReduce.Actors.Serialization.JournalEventSerializer, MapReduce.Actors",
        ["bytes"] = "Akka.Serialization.ByteArraySerializer, Akka",
        ["primitive"] = "Akka.Remote.Serialization.PrimitiveSerializers, Akka.Remote",
        ["akka-misc"] = "Akka.Remote.Serialization.MiscMessageSerializer, Akka.Remote",
        ["akka-system-msg"] = "Akka.Remote.Serialization.SystemMessageSerializer, Akka.Remote",
        ["akka-containers"] = "Akka.Remote.Serialization.MessageContainerSerializer, Akka.Remote",
        ["akka-cluster"] = "Akka.Cluster.Serialization.ClusterMessageSerializer, Akka.Cluster",
        ["akka-singleton"] = "Akka.Cluster.Tools.Singleton.Serialization.ClusterSingletonMessageSerializer, Akka.Cluster.Tools",
    };

    [Fact]
    public void Every_serializer_of_Akkas_modules_but_those_the_cluster_needs_is_refused()
    {
        // The configuration of a node, with every module's defaults that Akka injects once a module
        // is used (also modules the nodes never start: an upgrade that adds a serializer fails here).
        // This node's own configuration holds Akka's, remoting's and clustering's already.
        var config = Sys.Settings.Config
            .WithFallback(ClusterSingleton.DefaultConfig())
            .WithFallback(DistributedPubSub.DefaultConfig())
            .WithFallback(ClusterClientReceptionist.DefaultConfig())
            .WithFallback(ClusterSharding.DefaultConfig())
            .WithFallback(Akka.DistributedData.DistributedData.DefaultConfig())
            .WithFallback(ActorMaterializer.DefaultConfig())
            .WithFallback(Akka.Persistence.Persistence.DefaultConfig());
        var serializers = config.GetConfig("akka.actor.serializers").AsEnumerable().ToDictionary(kv => kv.Key, kv => kv.Value.GetString());

        Assert.Equal(Needed.OrderBy(kv => kv.Key), serializers.Where(kv => kv.Value != RefusedSerializer.ClassName).OrderBy(kv => kv.Key));
        // Among the refused, the ones the probing found open.
        Assert.Equal(RefusedSerializer.ClassName, serializers["json"]);
        Assert.Equal(RefusedSerializer.ClassName, serializers["daemon-create"]);
        Assert.Equal(RefusedSerializer.ClassName, serializers["proto"]);
    }

    [Fact]
    public void Bytes_said_to_be_of_serializer_1_are_refused_and_nothing_is_built()
    {
        var built = Gadget.Built;
        var json = "{\"$type\":\"System.Collections.Generic.List`1[[System.Uri, System.Private.Uri]], System.Private.CoreLib\",\"$values\":[\"http://127.0.0.1/\"]}"u8.ToArray();
        var e = Assert.Throws<System.Runtime.Serialization.SerializationException>(() =>
            Sys.Serialization.Deserialize(json, 1, "System.Collections.Generic.List`1[[System.Uri, System.Private.Uri]], System.Private.CoreLib"));
        Assert.StartsWith("Cannot find serializer with id [1]", e.Message);
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() =>
            Sys.Serialization.Deserialize("{\"Path\":\"/etc/passwd\"}"u8.ToArray(), 1, typeof(Gadget).AssemblyQualifiedName!));
        Assert.Equal(built, Gadget.Built);
    }

    /// <summary>
    /// Over real remoting: a process that never joined the cluster sends this node a message with
    /// Akka's JSON serializer, then a plain string. The string arrives; the message does not, and
    /// the type it named was never constructed here.
    /// </summary>
    [Fact]
    public async Task A_message_a_peer_wrote_with_serializer_1_is_dropped_unbuilt()
    {
        var target = Sys.ActorOf(Props.Create(() => new Forwarder(TestActor)), "target");
        using var rogue = ActorSystem.Create("rogue", ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
            akka.actor.serialization-bindings { "{{typeof(Gadget).AssemblyQualifiedName!.Split(", Version")[0]}}" = json }
            """));
        var address = ((ExtendedActorSystem)Sys).Provider.DefaultAddress;
        var remote = rogue.ActorSelection(new RootActorPath(address) / target.Path.Elements);

        var gadget = new Gadget { Path = "/etc/passwd" };
        Assert.Equal(1, rogue.Serialization.FindSerializerFor(gadget).Identifier);
        var built = Gadget.Built;
        remote.Tell(gadget);
        remote.Tell("after");

        await ExpectMsgAsync("after", TimeSpan.FromSeconds(20));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.Equal(built, Gadget.Built);
        await rogue.Terminate();
    }

    private sealed class Forwarder : ReceiveActor
    {
        public Forwarder(IActorRef to) => ReceiveAny(to.Forward);
    }
}
