namespace MapReduce.Storage.Chunking;

/// <summary>
/// How the input files are read into records (<c>--input-format</c>): text lines (a chunk of whole
/// lines per Map call), CSV with a header (a row per call, fields by name), JSON lines (a value per
/// line) or whole files (their bytes, one call per file).
/// </summary>
public enum InputFormat { Lines, Csv, JsonLines, WholeFile }

/// <summary>
/// The names of the input formats, and how a chunk's key says which one its dataset was uploaded
/// with. A chunk is cut for its format (CSV at record ends, whole files not at all), so the format
/// belongs to the stored dataset, and rides in the chunk key as gzip does (see the worker's
/// ChunkText): <c>--data-id</c> reuses a dataset as it was cut, and neither the master, its
/// journal nor the catalog needs to know.
/// </summary>
public static class InputFormats
{
    public const string CsvSuffix = ".csv";
    public const string JsonLinesSuffix = ".jsonl";
    public const string WholeFileSuffix = ".file";

    /// <summary>The option's names, in the order help lists them.</summary>
    public static readonly IReadOnlyList<string> Names = ["lines", "csv", "jsonl", "whole-file"];

    /// <summary>The format named by <c>--input-format</c>; null gives text lines.</summary>
    public static InputFormat Parse(string? name) => name?.ToLowerInvariant() switch
    {
        null or "lines" => InputFormat.Lines,
        "csv" => InputFormat.Csv,
        "jsonl" => InputFormat.JsonLines,
        "whole-file" => InputFormat.WholeFile,
        _ => throw new InputException($"--input-format must be one of {string.Join(", ", Names)}, not '{name}'"),
    };

    public static string Name(InputFormat format) => Names[(int)format];

    /// <summary>What a chunk key of <paramref name="format"/> ends with, before a gzip file's own suffix.</summary>
    public static string KeySuffix(InputFormat format) => format switch
    {
        InputFormat.Csv => CsvSuffix,
        InputFormat.JsonLines => JsonLinesSuffix,
        InputFormat.WholeFile => WholeFileSuffix,
        _ => "",
    };

    /// <summary>The format a chunk was uploaded in, by its key (<paramref name="gzipSuffix"/> stripped first).</summary>
    public static InputFormat OfChunkKey(string chunkKey, string gzipSuffix)
    {
        var key = chunkKey.EndsWith(gzipSuffix, StringComparison.Ordinal) ? chunkKey[..^gzipSuffix.Length] : chunkKey;
        if (key.EndsWith(CsvSuffix, StringComparison.Ordinal)) return InputFormat.Csv;
        if (key.EndsWith(JsonLinesSuffix, StringComparison.Ordinal)) return InputFormat.JsonLines;
        if (key.EndsWith(WholeFileSuffix, StringComparison.Ordinal)) return InputFormat.WholeFile;
        return InputFormat.Lines;
    }
}
