namespace MapReduce.IntegrationTests;

/// <summary>
/// Tests that bound how many seconds something takes (a take-over, a hand-over, a job with a slow
/// worker against one without), or whose outcome hangs on timings (the kvstore away longer than a
/// lookup waits; the chaos soak, which counts an unexplained node exit as an anomaly): xunit runs
/// them one at a time, after every other collection has finished, so that no other cluster
/// competes for the CPU. Every other class
/// runs beside one more (xunit.runner.json), longest first (<see cref="LongestFirst"/>): tests that
/// kill, pause or cut off nodes check outcomes, not speed, and mostly wait on their own cluster.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "alone";
}
