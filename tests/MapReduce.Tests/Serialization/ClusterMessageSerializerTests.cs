using Akka.Actor;
using Akka.Serialization;
using Hyperion;
using Hyperion.Internal;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.Serialization;
using MapReduce.Actors.StoreCheck;
using MapReduce.Storage.Identity;

namespace MapReduce.Tests.Serialization;

/// <summary>Messages between nodes go through Hyperion closed to the project's protocol types, as the cluster's hocon binds it.</summary>
public sealed class ClusterMessageSerializerTests() : Akka.TestKit.Xunit2.TestKit(MapReduceSettings.LoadConfig())
{
    /// <summary>Stands for any type a peer might name that the cluster never sends (a gadget, in an attack).</summary>
    public sealed record Foreign(string Path);

    private static readonly AttemptId Attempt = new(new JobId("job-20261130-080000-abcdef"), TaskId.Map(2), 1);

    private object[] Samples() =>
    [
        new MasterProtocol.SubmitJob("code-1", "data-1", 4),
        new MasterProtocol.SubmitJob("code-1", "data-1", 4, Incremental: true),
        new MasterProtocol.JobAccepted(Attempt.Job, 3, 4),
        new MasterProtocol.JobAccepted(Attempt.Job, 3, 4, Reused: true),
        new MasterProtocol.JobRejected("no"),
        new MasterProtocol.DeleteDataset("data-1"),
        new MasterProtocol.DatasetDeleted("data-1", 3, 100),
        new MasterProtocol.DeleteRejected("no"),
        new MasterProtocol.GetJobStatus(Attempt.Job, 1, 2),
        new MasterProtocol.JobStatus(Attempt.Job, JobStage.Failed, 1, 2, 3, 4, "boom", [1, 0, 2]),
        new MasterProtocol.JobStatus(Attempt.Job, JobStage.Running, 1, 2, 0, 4, null, [],
            [new MasterProtocol.Wait("kvstore", "unreachable", new DateTime(2026, 11, 30, 17, 42, 3, DateTimeKind.Utc))]),
        new MasterProtocol.Wait("kvstore", "not in the cluster", new DateTime(2026, 11, 30, 17, 42, 3, DateTimeKind.Utc)),
        new MasterProtocol.UnknownJob(Attempt.Job),
        new MasterProtocol.CancelJob(Attempt.Job),
        new MasterProtocol.CancelRejected("no"),
        MasterProtocol.GetWorkers.Instance,
        new MasterProtocol.WorkerInfo("akka.tcp://mapreduce@127.0.0.1:1", 2, ["a"]),
        new MasterProtocol.WorkerList([new MasterProtocol.WorkerInfo("akka.tcp://mapreduce@127.0.0.1:1", 2, ["a"])]),
        new MasterProtocol.RegisterWorker(TestActor, 2, [Attempt]),
        new MasterProtocol.RegisterWorker(TestActor, 0, [], "scratch disk full (0 MiB free in /s, under the 64 MiB of mapreduce.worker.min-free-scratch), not offering slots"),
        new MasterProtocol.WorkerInfo("akka.tcp://mapreduce@127.0.0.1:1", 0, [], "scratch disk full"),
        new MasterProtocol.TaskAttemptFailed(Attempt, MasterProtocol.FailureKind.DiskFull, "scratch disk full: No space left on device"),
        new MasterProtocol.WorkerLeaving(TestActor, new MasterProtocol.WorkerExit(3, Attempt)),
        new MasterProtocol.WorkerExit(3, null),
        // The counters as a worker builds them: a Dictionary with an ordinal comparer.
        new MasterProtocol.MapTaskSucceeded(Attempt, [1, 2], new Dictionary<string, long>(StringComparer.Ordinal) { ["user.x"] = 1 }),
        new MasterProtocol.ReduceTaskSucceeded(Attempt with { Task = TaskId.Reduce(1) }, 5, new Dictionary<string, long> { ["reduce.groups"] = 2 }),
        new MasterProtocol.TaskAttemptFailed(Attempt, MasterProtocol.FailureKind.UserCode, "boom"),
        new MasterProtocol.TaskRejected(Attempt),
        new MasterProtocol.KeySampleRequest(Attempt.Job.Value, 16),
        new MasterProtocol.KeySampleChunks(Attempt.Job.Value, [new MapChunk("a.txt", 0, "data/d/000000-000000"), new MapChunk("b.txt", 3, "data/d/000001-000003")]),
        new WorkerProtocol.RunMapTask(Attempt, "code-1", [new MapChunk("a.txt", 0, "data/d/000000-000000")], 4),
        new WorkerProtocol.RunMapTask(Attempt, "code-1", [new MapChunk("a.txt", 0, "data/d/000000-000000")], 4, Incremental: true),
        new WorkerProtocol.RunReduceTask(Attempt with { Task = TaskId.Reduce(1) }, "code-1", [1, 0, 2]),
        new WorkerProtocol.RunReduceTask(Attempt with { Task = TaskId.Reduce(1) }, "code-1", [1, 0, 0], [new ReusedRun(2, "jobs/job-1/map/m00004.1")]),
        new WorkerProtocol.CancelAttempt(Attempt, "timed out"),
        new KvStoreProtocol.GetDataEndpoint(),
        new KvStoreProtocol.DataEndpoint("http://127.0.0.1:1/", "/tmp/store", "id"),
        new KvStoreProtocol.KvStoreFailure("no"),
        new KvStoreProtocol.DocumentChunk("a.txt", 0, "data/d/000000-000000", 10),
        new KvStoreProtocol.RegisterDataset("d", "src", 1, "data/d/manifest"),
        new KvStoreProtocol.DatasetRegistered("d"),
        new KvStoreProtocol.RemoveDataset("d"),
        new KvStoreProtocol.DatasetRemoved("d", 1, 10),
        new KvStoreProtocol.CleanUpJob(new JobId("job-1"), ["jobs/job-1/map"]),
        new KvStoreProtocol.FoldersRemoved(3),
        new KvStoreProtocol.KeepMapOutputs("ln-1", "job-2", "jr-1", "d", "result-job-2", [new KvStoreProtocol.KeptMapOutput("mo-1", "jobs/job-1/map/m00000.1", [0, 2])],
            ["jobs/job-1/map/m00003.1"], new DateTime(2026, 12, 7, 16, 0, 0, DateTimeKind.Utc)),
        new KvStoreProtocol.KeptMapOutput("mo-1", "jobs/job-1/map/m00000.1", [0, 2]),
        new KvStoreProtocol.RegisterCode("code-1", "code/code-1/task.csx", "task.csx"),
        new KvStoreProtocol.CodeRegistered("code-1"),
        new StoreCheckProtocol.WhichStores(),
        new StoreCheckProtocol.NodeStores(["master", "kvstore"], new StoreIdentity(Guid.Parse("1a2b3c4d-0000-0000-0000-000000000001"), "the SQLite file /x/journal.db"), null),
    ];

    /// <summary>Protocol messages an actor only sends to itself: they never cross the network.</summary>
    private static readonly Type[] LocalOnly = [typeof(StoreCheckProtocol.CheckAgainst)];

    [Fact]
    public void Every_protocol_class_of_the_project_is_in_the_closed_set()
    {
        var protocols = typeof(ClusterMessageTypes).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: true, IsSealed: true } && t.Name.EndsWith("Protocol", StringComparison.Ordinal));
        Assert.Empty(protocols.Except(ClusterMessageTypes.Protocols).Select(t => t.FullName));
    }

    [Fact]
    public void Every_protocol_message_crosses_the_network_and_comes_back_equal()
    {
        var samples = Samples();
        // A message added to a protocol without a sample here fails this test, so it is checked too.
        var protocolTypes = ClusterMessageTypes.Protocols
            .SelectMany(p => p.GetNestedTypes()).Where(t => !t.IsEnum).Except(LocalOnly).ToHashSet();
        Assert.Empty(protocolTypes.Except(samples.Select(s => s.GetType())).Select(t => t.FullName));

        foreach (var message in samples)
        {
            var serializer = Sys.Serialization.FindSerializerFor(message);
            Assert.IsType<ClusterMessageSerializer>(serializer);
            var back = serializer.FromBinary(serializer.ToBinary(message), message.GetType());
            // Records with arrays compare by reference: compare what they print instead.
            Assert.Equal(Describe(message), Describe(back));
        }
    }

    [Fact]
    public void A_type_outside_the_protocol_is_refused_when_read()
    {
        // Bytes as a peer with an unrestricted Hyperion would send them.
        var open = new HyperionSerializer((ExtendedActorSystem)Sys, HyperionSerializerSettings.Default);
        var bytes = open.ToBinary(new Foreign("/etc/passwd"));

        var closed = Sys.Serialization.FindSerializerFor(new MasterProtocol.SubmitJob("c", "d", 1));
        var refused = Refusal(Assert.Throws<System.Runtime.Serialization.SerializationException>(() => closed.FromBinary(bytes, null!)));
        Assert.Equal("MapReduce.Tests.Serialization.ClusterMessageSerializerTests+Foreign, MapReduce.Tests", refused.BadTypeString);
    }

    [Fact]
    public void A_foreign_type_inside_a_protocol_message_is_refused_when_read()
    {
        var open = new HyperionSerializer((ExtendedActorSystem)Sys, HyperionSerializerSettings.Default);
        var bytes = open.ToBinary(new MasterProtocol.MapTaskSucceeded(Attempt, [1], new SortedList<string, long> { ["x"] = 1 }));

        var closed = Sys.Serialization.FindSerializerFor(new MasterProtocol.SubmitJob("c", "d", 1));
        var refused = Refusal(Assert.Throws<System.Runtime.Serialization.SerializationException>(() => closed.FromBinary(bytes, null!)));
        Assert.StartsWith("System.Collections.Generic.SortedList`2", refused.BadTypeString);
    }

    [Fact]
    public void A_type_outside_the_protocol_is_not_sent()
    {
        var serializer = Sys.Serialization.FindSerializerFor(new Foreign("x"));
        Assert.IsType<ClusterMessageSerializer>(serializer);
        Assert.Throws<UserEvilDeserializationException>(() => serializer.ToBinary(new Foreign("x")));
    }

    /// <summary>Hyperion's refusal, however deep Akka and Hyperion wrapped it.</summary>
    private static UserEvilDeserializationException Refusal(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            if (inner is UserEvilDeserializationException refused) return refused;
        throw new Xunit.Sdk.XunitException($"not refused by the type filter: {e}");
    }

    private static string Describe(object message) => message switch
    {
        MasterProtocol.JobStatus s => $"{s with { PartAttempts = [], WaitingFor = null }} {string.Join(",", s.PartAttempts)} {string.Join(",", s.WaitingFor ?? [])}",
        MasterProtocol.WorkerInfo w => $"{w.Address} {w.Slots} {string.Join(",", w.Running)} {w.Unavailable}",
        MasterProtocol.WorkerList l => string.Join(";", l.Workers.Select(Describe)),
        MasterProtocol.RegisterWorker r => $"{r.Worker} {r.Slots} {string.Join(",", r.Running)} {r.Unavailable}",
        MasterProtocol.MapTaskSucceeded m => $"{m.Attempt} {string.Join(",", m.PairsPerPartition)} {string.Join(",", m.Counters!)}",
        MasterProtocol.ReduceTaskSucceeded r => $"{r.Attempt} {r.Lines} {string.Join(",", r.Counters!)}",
        WorkerProtocol.RunMapTask t => $"{t.Attempt} {t.CodeId} {string.Join(",", t.Chunks.AsEnumerable())} {t.Reducers} {t.Incremental}",
        WorkerProtocol.RunReduceTask t => $"{t.Attempt} {t.CodeId} {string.Join(",", t.MapAttempts)} {string.Join(",", t.Reused?.AsEnumerable() ?? [])}",
        KvStoreProtocol.CleanUpJob c => $"{c.Job} {string.Join(",", c.Leftovers)}",
        KvStoreProtocol.KeptMapOutput o => $"{o.OutputId} {o.RunsFolder} {string.Join(",", o.Partitions)}",
        KvStoreProtocol.KeepMapOutputs k => $"{k with { Outputs = [], InUse = [] }} {string.Join(";", k.Outputs.Select(Describe))} {string.Join(",", k.InUse)}",
        MasterProtocol.KeySampleChunks k => $"{k.JobId} {string.Join(",", k.Chunks.AsEnumerable())}",
        _ => message.ToString()!,
    };
}
