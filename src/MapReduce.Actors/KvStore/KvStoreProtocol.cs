using Akka.IO;
using Akka.Streams;

namespace MapReduce.Actors.KvStore;

/// <summary>Messages of the kvstore actor (role kvstore, at /user/kvstore).</summary>
public static class KvStoreProtocol
{
    /// <summary>Payloads up to this size travel inside one message; larger ones as a stream (a remoting frame holds 128 000 bytes).</summary>
    public const int InlineLimit = 64 * 1024;

    public sealed record PutInline(string Key, byte[] Data);

    /// <summary>Asks for a stream to write a blob into; answered with <see cref="WriteReady"/>.</summary>
    public sealed record OpenWrite(string Key);

    public sealed record WriteReady(string UploadId, ISinkRef<ByteString> Sink);

    /// <summary>Sent after the stream into <see cref="WriteReady.Sink"/> completed: the blob is published once all bytes are on disk.</summary>
    public sealed record CommitWrite(string UploadId);

    public sealed record BlobWritten(string Key, long Length);

    public sealed record Get(string Key);

    public sealed record InlineBlob(string Key, byte[] Data);

    public sealed record StreamedBlob(string Key, long Length, ISourceRef<ByteString> Source);

    public sealed record BlobMissing(string Key);

    /// <summary>A request the kvstore could not serve (invalid key, I/O error); the message says why.</summary>
    public sealed record KvStoreFailure(string Message);

    public sealed record DocumentChunk(string DocId, int ChunkIndex, string ChunkKey, long Bytes);

    /// <summary>Records an uploaded dataset in the catalog once all its chunks are stored.</summary>
    public sealed record RegisterDataset(string DirId, string Source, int Documents, DocumentChunk[] Chunks);

    public sealed record DatasetRegistered(string DirId);

    public sealed record RegisterCode(string CodeId, string BlobKey, string Source);

    public sealed record CodeRegistered(string CodeId);
}
