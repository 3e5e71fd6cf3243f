using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using static MapReduce.Actors.Protocol.MasterProtocol;
using static MapReduce.Actors.Protocol.WorkerProtocol;

namespace MapReduce.Tests.Master;

/// <summary>The chunks a total-order sort samples keys from: spread evenly over the job's inputs, always the first; none for a job that is unknown or ended.</summary>
public sealed class KeySampleTests : MasterTestKit
{
    private const string Job = "job-20261130-080000-abcdef";
    private static readonly DateTime At = new(2026, 11, 30, 8, 0, 0, DateTimeKind.Utc);

    /// <summary>Four map tasks over ten chunks: c0 | c1 c2 c3 | c4 c5 | c6 c7 c8 c9.</summary>
    private static JobState Packed() => JobState.From(new JobSubmitted(Job, "code-1", "data-1", 2,
    [
        new MapInput("m00000", "a.txt", 0, "c0"),
        new MapInput("m00001", "a.txt", 1, "c1", [new MapChunk("a.txt", 2, "c2"), new MapChunk("b.txt", 0, "c3")]),
        new MapInput("m00002", "b.txt", 1, "c4", [new MapChunk("b.txt", 2, "c5")]),
        new MapInput("m00003", "c.txt", 0, "c6", [new MapChunk("c.txt", 1, "c7"), new MapChunk("c.txt", 2, "c8"), new MapChunk("c.txt", 3, "c9")]),
    ], At));

    [Theory]
    [InlineData(1, "c0")]
    [InlineData(2, "c0 c5")]
    [InlineData(3, "c0 c3 c6")]
    [InlineData(5, "c0 c2 c4 c6 c8")]
    [InlineData(10, "c0 c1 c2 c3 c4 c5 c6 c7 c8 c9")]
    [InlineData(50, "c0 c1 c2 c3 c4 c5 c6 c7 c8 c9")]
    [InlineData(0, "")]
    [InlineData(-3, "")]
    public void Up_to_max_chunks_evenly_spread_over_the_inputs_the_first_always(int max, string keys) =>
        Assert.Equal(keys, string.Join(" ", KeySample.Of(Packed(), max).Select(c => c.ChunkKey)));

    [Fact]
    public void An_unknown_or_ended_job_has_none()
    {
        Assert.Empty(KeySample.Of(null, 5));
        Assert.Empty(KeySample.Of(Packed().Apply(new JobFailed(Job, "x", At)), 5));
    }

    [Fact]
    public void The_master_answers_for_a_running_job_and_with_none_once_it_has_ended()
    {
        var (master, worker, job) = StartJob(slots: 1);
        var sampler = CreateTestProbe(); // the worker that sorts: not journaled, answered at once
        master.Tell(new KeySampleRequest(job.Value, 2), sampler.Ref);
        var sample = sampler.ExpectMsg<KeySampleChunks>();
        Assert.Equal(job.Value, sample.JobId);
        // data-1's three chunks, one map task each: the first, and the one at 3/2.
        Assert.Equal([new MapChunk("a.txt", 0, "data/data-1/000000-000000"), new MapChunk("a.txt", 1, "data/data-1/000000-000001")], sample.Chunks);

        master.Tell(new TaskAttemptFailed(worker.ExpectMsg<RunMapTask>().Attempt, FailureKind.CompileError, "task.csx does not compile"), worker.Ref);
        Assert.Equal(JobStage.Failed, StatusOf(master, job).Stage);
        master.Tell(new KeySampleRequest(job.Value, 2), sampler.Ref);
        Assert.Empty(sampler.ExpectMsg<KeySampleChunks>().Chunks);
        master.Tell(new KeySampleRequest("job-20261130-000000-000000", 2), sampler.Ref);
        Assert.Empty(sampler.ExpectMsg<KeySampleChunks>().Chunks);
    }
}
