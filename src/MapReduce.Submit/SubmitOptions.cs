namespace MapReduce.Submit;

/// <summary>What `submit` was asked to do: its options as parsed (see <see cref="SubmitCommand"/>).</summary>
public sealed record SubmitOptions(
    IReadOnlyList<string> DataFolders,
    string? DataId,
    string? CodeFolder,
    string? CodeId,
    string? OutputFolder,
    int? Reducers,
    IReadOnlyList<string> ClusterUrls,
    string StoreFolder,
    int? Workers,
    int? TasksPerWorker,
    string? ConfigFile,
    int? BlockSize = null,
    bool Detach = false,
    bool Json = false,
    bool Quiet = false,
    TimeSpan? KeepCluster = null)
{
    /// <summary>The input files' encoding as given (--encoding); null: UTF-8.</summary>
    public string? Encoding { get; init; }

    /// <summary>--sample: only the first this many lines of each input file are uploaded and mapped; null: all of them.</summary>
    public int? Sample { get; init; }

    /// <summary>--in-process: kvstore, master and worker in this process, the script compiled for a debugger.</summary>
    public bool InProcess { get; init; }

    /// <summary>--skip-bad-records: true; null: the cluster's mapreduce.skip-bad-records.</summary>
    public bool? SkipBadRecords { get; init; }

    /// <summary>--input-format as given (lines, csv, jsonl, whole-file); null: text lines.</summary>
    public string? InputFormat { get; init; }

    /// <summary>--output-format as given (tsv, jsonl, csv); null: tsv.</summary>
    public string? OutputFormat { get; init; }

    /// <summary>--incremental: reuse what earlier incremental runs of the same input, code and reducers left.</summary>
    public bool Incremental { get; init; }
}
