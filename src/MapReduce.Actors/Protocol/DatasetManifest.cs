using System.Text.Json;
using static MapReduce.Actors.Protocol.KvStoreProtocol;

namespace MapReduce.Actors.Protocol;

/// <summary>
/// The chunk list of an uploaded dataset, stored as a JSON blob (<see cref="Protocol.BlobKeys.Manifest"/>)
/// instead of travelling in <see cref="RegisterDataset"/>: a message grows with the input, and
/// remoting drops any frame above <c>maximum-frame-size</c> without a word (3,000 small files
/// already passed it). A blob has no such limit, and the message stays a few hundred bytes.
/// </summary>
public sealed record DatasetManifest(string DirId, DocumentChunk[] Chunks)
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Options);

    /// <summary>Reads a manifest; throws <see cref="JsonException"/> when the JSON is not one (malformed, or no chunk list).</summary>
    public static DatasetManifest Parse(Stream json)
    {
        var manifest = JsonSerializer.Deserialize<DatasetManifest>(json, Options);
        if (manifest?.DirId is null || manifest.Chunks is null || manifest.Chunks.Any(c => c is null))
            throw new JsonException("it has no dirId or no chunk list");
        return manifest;
    }
}
