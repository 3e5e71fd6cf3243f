using Akka.Configuration;
using MapReduce.Storage.Records;

namespace MapReduce.Actors.Hosting;

/// <summary>How map output is buffered, stored and merged (mapreduce.map-buffer-size, shuffle-compression, max-reducer-partition, shuffle-merge-factor).</summary>
/// <param name="MapBufferBytes">Memory a map task's output buffer holds before it sorts and spills a run to disk.</param>
/// <param name="MaxReducerPartition">Map output bytes of one partition the whole-partition Reducer may load into memory.</param>
/// <param name="CompressRuns">Whether map runs and spills are written as LZ4 frames.</param>
/// <param name="MergeFactor">The most runs a reduce merges at once; past it, it merges them in passes into scratch first.</param>
public sealed record ShuffleSettings(long MapBufferBytes, long MaxReducerPartition, bool CompressRuns, int MergeFactor)
{
    public static ShuffleSettings From(Config section)
    {
        if (section.HasPath("map-buffer-entries"))
            throw new ConfigurationException("mapreduce.map-buffer-entries is gone: the map buffer is bounded by bytes now; set mapreduce.map-buffer-size (e.g. 64MiB) instead");
        var compression = section.GetString("shuffle-compression");
        var compress = compression switch
        {
            "lz4" => true,
            "none" => false,
            _ => throw new ConfigurationException($"mapreduce.shuffle-compression = '{compression}' is not lz4 or none"),
        };
        var mergeFactor = section.GetInt("shuffle-merge-factor");
        if (mergeFactor < MergePasses.MinFactor)
            throw new ConfigurationException($"mapreduce.shuffle-merge-factor = {mergeFactor} is below its minimum of {MergePasses.MinFactor} runs");
        return new ShuffleSettings(Bytes(section, "map-buffer-size", min: 1 << 16), Bytes(section, "max-reducer-partition", min: 1), compress, mergeFactor);
    }

    private static long Bytes(Config section, string key, long min)
    {
        var value = section.GetByteSize(key) ?? throw new ConfigurationException($"mapreduce.{key} is not set (hocon/mapreduce.hocon sets it)");
        return value >= min ? value : throw new ConfigurationException($"mapreduce.{key} = {value} bytes is below its minimum of {min} bytes");
    }
}
