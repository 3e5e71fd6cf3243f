namespace MapReduce.IntegrationTests;

/// <summary>
/// Tests that kill nodes, cut links, pause processes or compare timings: xunit runs them one at a
/// time, after every other collection has finished, so that no other cluster competes for the CPU
/// while they wait for failure detection and take-overs. Every other class runs beside one more
/// (xunit.runner.json), mostly waiting on its own cluster.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "alone";
}
