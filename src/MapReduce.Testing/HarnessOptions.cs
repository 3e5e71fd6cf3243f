using MapReduce.Actors.Hosting;
using MapReduce.Storage.Chunking;

namespace MapReduce.Testing;

/// <summary>
/// How <see cref="JobHarness"/> runs a job; every default is the cluster's own (hocon/mapreduce.hocon:
/// reducers, block-size, map-buffer-size, max-reducer-partition, shuffle-compression).
/// </summary>
public sealed record HarnessOptions
{
    private static readonly Lazy<MapReduceSettings> Defaults = new(() => MapReduceSettings.From(MapReduceSettings.LoadConfig()));

    /// <summary>Reduce partitions, so output parts (--reducers).</summary>
    public int Reducers { get; init; } = Defaults.Value.Reducers;

    /// <summary>The most bytes of a document one Map call gets: documents are cut at line ends as the CLI cuts files into chunks (--block-size).</summary>
    public int BlockSize { get; init; } = Defaults.Value.BlockSize;

    /// <summary>Bytes a map task buffers before it sorts and spills a run to disk: set it small to test spills.</summary>
    public long MapBufferBytes { get; init; } = Defaults.Value.Shuffle.MapBufferBytes;

    /// <summary>Map output bytes of one partition the whole-partition Reducer may hold.</summary>
    public long MaxReducerPartition { get; init; } = Defaults.Value.Shuffle.MaxReducerPartition;

    /// <summary>
    /// How the documents are read (--input-format): text lines, CSV with a header (cut at record
    /// ends), JSON lines, or whole files (each document's UTF-8 bytes, one record).
    /// </summary>
    public InputFormat InputFormat { get; init; } = InputFormat.Lines;

    /// <summary>Whether runs and spills are LZ4 frames.</summary>
    public bool CompressRuns { get; init; } = Defaults.Value.Shuffle.CompressRuns;
}
