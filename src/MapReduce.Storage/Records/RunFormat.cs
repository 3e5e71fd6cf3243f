namespace MapReduce.Storage.Records;

/// <summary>
/// A sorted run: the map output of one task for one partition, in key order. Layout: the magic
/// "MRR2" and a flags byte (0, or <see cref="Lz4"/>: everything after it is one LZ4 frame), then
/// segments, then an end marker. A segment is one key and a batch
/// of its values: varint(key length + 1), varint(value count), varint(value bytes), the key's
/// bytes (<see cref="KeyFormat{TKey}"/>), the values (<see cref="Codec{T}"/>, one after another). A key's values are grouped before they are written, so a run holds each key once,
/// except that a key with many values is cut into several consecutive segments (of about
/// <see cref="SegmentBytes"/>), so that no reader needs more memory than that and its largest value.
/// The end marker, varint 0, tells a complete run from a truncated one.
/// </summary>
public static class RunFormat
{
    public static ReadOnlySpan<byte> Magic => "MRR2"u8;

    public const byte NoFlags = 0;

    /// <summary>The segments and the end marker are one LZ4 frame (mapreduce.shuffle-compression = lz4).</summary>
    public const byte Lz4 = 1;

    /// <summary>Value bytes after which a key's values continue in a new segment.</summary>
    public const int SegmentBytes = 1 << 20;
}
