using MapReduce.Storage.Catalog;

namespace MapReduce.Actors.Master;

/// <summary>The catalog keeps stages as text (<see cref="ExecutionStatus"/>); this is the one place they are translated.</summary>
public static class CatalogNames
{
    public static string Of(JobStage stage) => stage switch
    {
        JobStage.Running => ExecutionStatus.Running,
        JobStage.Succeeded => ExecutionStatus.Success,
        JobStage.Cancelled => ExecutionStatus.Cancelled,
        _ => ExecutionStatus.Failure,
    };

    public static JobStage JobStageOf(string status) => status switch
    {
        ExecutionStatus.Success => JobStage.Succeeded,
        ExecutionStatus.Failure => JobStage.Failed,
        ExecutionStatus.Cancelled => JobStage.Cancelled,
        _ => JobStage.Running,
    };
}
