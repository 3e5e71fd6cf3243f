using System.Text.Json;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// The catalog keeps stages as text (<see cref="ExecutionStatus"/>) and what a running job waits
/// for as JSON (<see cref="JobRow.WaitingFor"/>); this is the one place they are translated.
/// </summary>
public static class CatalogNames
{
    /// <summary>A running job's waits as the catalog keeps them; null when it waits for nothing.</summary>
    public static string? Of(IReadOnlyList<Wait>? waits) => waits is { Count: > 0 } ? JsonSerializer.Serialize(waits) : null;

    /// <summary>The waits a catalog row holds; none for null, or for text that is not what <see cref="Of(IReadOnlyList{Wait})"/> writes.</summary>
    public static Wait[] WaitsOf(string? json)
    {
        if (string.IsNullOrEmpty(json)) return [];
        try
        {
            return JsonSerializer.Deserialize<Wait[]>(json)?.Where(w => w is { What: not null, Reason: not null })
                .Select(w => w with { Since = DateTime.SpecifyKind(w.Since, DateTimeKind.Utc) }).ToArray() ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

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
