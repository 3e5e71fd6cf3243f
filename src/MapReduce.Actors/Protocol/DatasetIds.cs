using MapReduce.Storage.Blobs;

namespace MapReduce.Actors.Protocol;

/// <summary>
/// What a dataset id may be: one plain name, since it is a folder of blob keys (<c>data/ID/</c>),
/// and short enough for every message that names it. Ids that start with
/// <see cref="BlobKeys.ResultPrefix"/> name the results of jobs, which only the master registers:
/// a client that registered <c>result-JOB</c> itself could make <c>download</c> return what it chose.
/// </summary>
public static class DatasetIds
{
    public const int MaxLength = 100;

    /// <summary>Null when <paramref name="id"/> is a well-formed dataset id, otherwise why not.</summary>
    public static string? Problem(string? id) =>
        id is { Length: > 0 and <= MaxLength } && !id.Contains('/') && BlobKey.Problem(id) is null
            ? null
            : $"dataset id '{BlobKey.Printable(id ?? "")}' is not valid: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most {MaxLength} characters";

    /// <summary><see cref="Problem"/>, and the reserved prefix: null when a client may register <paramref name="id"/>.</summary>
    public static string? RegistrationProblem(string? id) =>
        Problem(id) ?? (id!.StartsWith(BlobKeys.ResultPrefix, StringComparison.Ordinal)
            ? $"dataset id {id}: ids that start with '{BlobKeys.ResultPrefix}' are reserved for the results of jobs"
            : null);
}
