using Akka.Actor;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.Serialization;

namespace MapReduce.Tests.Master;

public sealed class JournalEventSerializerTests : Akka.TestKit.Xunit2.TestKit
{
    public static TheoryData<IMasterEvent> Events() =>
    [
        new JobSubmitted("job-1", "code-1", "data-1", 4, [new MapInput("m00000", "a/b.txt", 0, "data/data-1/000000-000000")], new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc)),
        new JobSubmitted("job-2", "code-1", "data-1", 2, [new MapInput("m00000", "a.txt", 0, "k0", [new MapChunk("b.txt", 0, "k1"), new MapChunk("c.txt", 3, "k2")])], DateTime.UnixEpoch),
        // An incremental job: its map output ids, one map reused from an earlier job's runs, its lineage.
        new JobSubmitted("job-3", "code-1", "data-1", 2, [new MapInput("m00000", "a.txt", 0, "k0", null, "mo-1", "jobs/job-2/map/m00004.1", [0, 1]),
            new MapInput("m00001", "b.txt", 0, "k1", null, "mo-2")], DateTime.UnixEpoch, Lineage: "ln-1"),
        new TaskStarted("job-1", "m00000", "m00000.1", "akka.tcp://mapreduce@127.0.0.1:1234", DateTime.UnixEpoch),
        new MapSucceeded("job-1", "m00000", "m00000.1", [0, 3], DateTime.UnixEpoch),
        new ReduceSucceeded("job-1", "r00000", "r00000.2", "jobs/job-1/reduce/r00000.2/part-00000", DateTime.UnixEpoch),
        new TaskFailed("job-1", "m00000", "m00000.1", "boom", true, DateTime.UnixEpoch),
        new MapSucceeded("job-1", "m00001", "m00001.1", [1], DateTime.UnixEpoch, new Dictionary<string, long> { ["map.input.bytes"] = 123, ["user.words"] = 4 }),
        new ReduceSucceeded("job-1", "r00001", "r00001.1", "jobs/job-1/reduce/r00001.1/part-00001", DateTime.UnixEpoch, new Dictionary<string, long> { ["reduce.groups"] = 7 }),
        new TaskFailed("job-1", "m00001", "m00001.1", "worker lost", true, DateTime.UnixEpoch, Lost: true),
        new JobSucceeded("job-1", "result-job-1", ["a", "b"], DateTime.UnixEpoch),
        new JobFailed("job-1", "reason", DateTime.UnixEpoch),
        new JobSubmitted("job-3", "code-1", "data-1", 1, [new MapInput("m00000", "a.txt", 0, "k0")], DateTime.UnixEpoch, SkipBadRecords: true),
        new TaskFailed("job-3", "m00000", "m00000.2", "Map threw on document 'a.txt', chunk 0, line 7: boom", true, DateTime.UnixEpoch, Line: new InputLine("a.txt", 0, 7)),
        new RecordSkipped("job-3", "m00000", "m00000.3", new InputLine("a.txt", 0, 7), "Map threw on document 'a.txt', chunk 0, line 7: boom", DateTime.UnixEpoch),
    ];

    [Theory]
    [MemberData(nameof(Events))]
    public void Events_round_trip_under_a_stable_manifest(IMasterEvent e)
    {
        var serializer = new JournalEventSerializer((ExtendedActorSystem)Sys);
        var manifest = serializer.Manifest(e);
        Assert.Equal(e.GetType().Name, manifest);
        var back = serializer.FromBinary(serializer.ToBinary(e), manifest);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(e, e.GetType()), System.Text.Json.JsonSerializer.Serialize(back, back.GetType()));
        Assert.DoesNotContain("MapReduce.Actors", System.Text.Encoding.UTF8.GetString(serializer.ToBinary(e)));
    }

    [Fact]
    public void A_job_journaled_before_tasks_were_packed_reads_back_with_one_chunk_per_task()
    {
        var serializer = new JournalEventSerializer((ExtendedActorSystem)Sys);
        var old = System.Text.Encoding.UTF8.GetBytes(
            """{"ExecId":"job-1","CodeId":"code-1","DirId":"data-1","Reducers":4,"Maps":[{"TaskId":"m00000","DocId":"a/b.txt","ChunkIndex":2,"ChunkKey":"data/data-1/000000-000002"}],"At":"2026-01-02T03:04:05Z"}""");

        var submitted = Assert.IsType<JobSubmitted>(serializer.FromBinary(old, nameof(JobSubmitted)));

        Assert.Equal([new MapChunk("a/b.txt", 2, "data/data-1/000000-000002")], submitted.Maps.Single().Chunks());
    }

    [Fact]
    public void Events_journaled_before_counters_read_back_without_counters_and_not_lost()
    {
        var serializer = new JournalEventSerializer((ExtendedActorSystem)Sys);
        var map = Assert.IsType<MapSucceeded>(serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(
            """{"ExecId":"job-1","TaskId":"m00000","AttemptId":"m00000.1","NonEmptyPartitions":[0],"At":"2026-01-02T03:04:05Z"}"""), nameof(MapSucceeded)));
        var failed = Assert.IsType<TaskFailed>(serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(
            """{"ExecId":"job-1","TaskId":"m00000","AttemptId":"m00000.1","Error":"boom","Counted":true,"At":"2026-01-02T03:04:05Z"}"""), nameof(TaskFailed)));

        Assert.Null(map.Counters);
        Assert.False(failed.Lost);
    }

    [Fact]
    public void A_success_with_the_most_counters_a_task_may_send_stays_far_below_the_remoting_frame()
    {
        var counters = Enumerable.Range(0, MapReduce.Actors.UserCode.AttemptContext.MaxUserCounters)
            .ToDictionary(i => $"user.{i:D3}{new string('n', MapReduce.Actors.UserCode.AttemptContext.MaxNameLength - 3)}", i => long.MaxValue - i);
        foreach (var name in new[] { "map.input.bytes", "map.input.lines", "map.output.pairs", "map.output.bytes", "combine.input", "combine.output", "spilled.pairs" })
            counters[name] = long.MaxValue;
        var message = new MasterProtocol.MapTaskSucceeded(new AttemptId(new JobId("job-20261130-080000-0001"), TaskId.Map(99999), 3), new int[1000], counters);

        // As remoting serializes it: with the cluster's hocon (Hyperion for messages).
        using var system = ActorSystem.Create("frame-check", Akka.Configuration.ConfigurationFactory.ParseString("akka.actor.provider = local")
            .WithFallback(MapReduce.Actors.Hosting.MapReduceSettings.LoadConfig()));
        var serializer = system.Serialization.FindSerializerFor(message);
        var bytes = serializer.ToBinary(message);
        var back = (MasterProtocol.MapTaskSucceeded)serializer.FromBinary(bytes, typeof(MasterProtocol.MapTaskSucceeded));

        Assert.InRange(bytes.Length, 1, 32_000);
        Assert.Equal(counters, back.Counters);
    }

    [Fact]
    public void The_hocon_binds_events_to_the_journal_serializer()
    {
        var config = MapReduce.Actors.Hosting.MapReduceSettings.LoadConfig();
        using var system = ActorSystem.Create("bind-check", Akka.Configuration.ConfigurationFactory.ParseString("akka.actor.provider = local").WithFallback(config));
        var serializer = system.Serialization.FindSerializerFor(new JobFailed("j", "r", DateTime.UnixEpoch));
        Assert.IsType<JournalEventSerializer>(serializer);
        Assert.IsType<ClusterMessageSerializer>(system.Serialization.FindSerializerFor(new MasterProtocol.GetJobStatus(new JobId("j"))));
    }
}
