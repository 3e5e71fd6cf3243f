using System.Buffers;
using System.IO.Hashing;
using System.Text;

namespace MapReduce.Storage.Incremental;

/// <summary>
/// The content addresses of incremental re-runs (<c>--incremental</c>). A chunk's id is the XxHash128
/// of the bytes stored for it; a map task's output id covers everything its output depends on: each
/// chunk's content, the document id Map is given and how the chunk is read (text or gzip), the code
/// (script or project, its Partition function included), the reducer count, and this format's version
/// (the default partitioner and the run format). Equal ids mean equal output, given deterministic user code.
/// </summary>
public static class ContentIds
{
    /// <summary>Changes whenever the engine changes what a map task writes for the same input and code (run format, default partitioner).</summary>
    public const string MapOutputFormat = "map-output-v1";

    private const int ChunkIdLength = 32;

    /// <summary>A chunk's id: 32 lowercase hex digits of the XxHash128 of <paramref name="length"/> bytes of the file from <paramref name="offset"/>.</summary>
    public static string OfFileRange(string path, long offset, long length)
    {
        var hash = new XxHash128();
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
            file.Position = offset;
            for (var left = length; left > 0;)
            {
                var read = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (read == 0) throw new EndOfStreamException($"{path} ended {left} bytes before the chunk did");
                hash.Append(buffer.AsSpan(0, read));
                left -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    public static string OfBytes(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(XxHash128.Hash(bytes));

    /// <summary>Whether <paramref name="id"/> has the form of a chunk's content id.</summary>
    public static bool IsChunkId(string? id) => id is { Length: ChunkIdLength } && !id.AsSpan().ContainsAnyExcept("0123456789abcdef");

    /// <summary>One chunk as a map task reads it: the document id Map gets, whether it is gzip, its content id.</summary>
    public readonly record struct MapChunkContent(string DocId, bool Gzip, string ContentId);

    /// <summary>The id of a map task's output: its chunks in order, the code, the reducer count and <see cref="MapOutputFormat"/>.</summary>
    public static string MapOutput(string codeId, int reducers, IEnumerable<MapChunkContent> chunks)
    {
        var text = new StringBuilder();
        Field(text, MapOutputFormat);
        Field(text, codeId);
        Field(text, reducers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var c in chunks)
        {
            Field(text, c.DocId);
            Field(text, c.Gzip ? "gz" : "text");
            Field(text, c.ContentId);
        }
        return "mo-" + OfBytes(Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>The id of a whole job's result: the code, the reducer count and every map output id in task order.</summary>
    public static string JobResult(string codeId, int reducers, IEnumerable<string> mapOutputIds)
    {
        var text = new StringBuilder();
        Field(text, "job-result-v1");
        Field(text, codeId);
        Field(text, reducers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var id in mapOutputIds) Field(text, id);
        return "jr-" + OfBytes(Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>
    /// What re-runs of one job share, whatever their input's content: where the input came from, the
    /// code and the reducer count. The map outputs of the latest incremental job of a lineage are kept.
    /// </summary>
    public static string Lineage(string source, string codeId, int reducers)
    {
        var text = new StringBuilder();
        Field(text, "lineage-v1");
        Field(text, source);
        Field(text, codeId);
        Field(text, reducers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return "ln-" + OfBytes(Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>Length-prefixed, so no two different field lists make the same text ("a","bc" vs "ab","c").</summary>
    private static void Field(StringBuilder text, string value) => text.Append(value.Length).Append(':').Append(value).Append('\n');
}
