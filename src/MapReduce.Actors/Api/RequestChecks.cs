using MapReduce.Actors.Protocol;
using MapReduce.Storage.Blobs;
using static MapReduce.Actors.Protocol.ApiModels;

namespace MapReduce.Actors.Api;

/// <summary>
/// What the control API accepts before it asks the master or the kvstore anything. A request
/// becomes a remoting message, which remoting drops without a word past its frame size (128,000
/// bytes): a 1 MB field was answered "kvstore not reachable" 30 s later. So bodies and fields are
/// bounded here, and ids are held to their form, each refused with one line.
/// </summary>
public static class RequestChecks
{
    /// <summary>The largest request body: the API takes ids and names, never data (blob bytes go over the kvstore's data channel).</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>The longest <c>source</c> (where an upload came from: a path): Linux's PATH_MAX.</summary>
    public const int MaxSourceLength = 4096;

    public static string BodyTooLarge => $"the request body is larger than {MaxBodyBytes} bytes; the control API takes ids and names, not data";

    public static string? Problem(CodeRegistration code) =>
        CodeBlob.IdProblem(code.CodeId) ?? BlobKey.Problem(code.BlobKey) ?? SourceProblem(code.Source);

    public static string? Problem(DatasetRegistration dataset) =>
        DatasetIds.RegistrationProblem(dataset.DatasetId) ?? BlobKey.Problem(dataset.ManifestKey) ?? SourceProblem(dataset.Source)
        ?? (dataset.Documents < 0 ? $"documents is {dataset.Documents}; it counts the uploaded files" : null);

    /// <summary>A job may read any dataset, a job's result too: only the form of its id is checked here.</summary>
    public static string? Problem(JobRequest job) => CodeBlob.IdProblem(job.CodeId) ?? DatasetIds.Problem(job.DatasetId);

    private static string? SourceProblem(string? source) =>
        source is { Length: > MaxSourceLength } ? $"source is {source.Length} characters long; at most {MaxSourceLength} are allowed" : null;
}
