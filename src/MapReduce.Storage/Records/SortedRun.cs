namespace MapReduce.Storage.Records;

/// <summary>
/// A sorted run: the intermediate pairs of one map task for one partition, in key order.
/// Layout: the magic "MRR1", then per pair a 1 byte, the key and the value (codec encoded), then a
/// 0 byte. The end marker lets a reader tell a complete run from a truncated one.
/// </summary>
public static class SortedRun
{
    private static ReadOnlySpan<byte> Magic => "MRR1"u8;

    /// <summary>Sorts the pairs by key (stable for equal keys) and writes them as a run.</summary>
    public static void Write<TKey, TValue>(Stream output, List<KeyValuePair<TKey, TValue>> pairs)
    {
        var sorted = new List<KeyValuePair<TKey, TValue>>(pairs);
        KeyOrder.SortStable(sorted);
        WriteSorted(output, sorted);
    }

    /// <summary>Writes pairs that are already in key order.</summary>
    public static void WriteSorted<TKey, TValue>(Stream output, IEnumerable<KeyValuePair<TKey, TValue>> sorted)
    {
        var keys = Codec.For<TKey>();
        var values = Codec.For<TValue>();
        using var writer = new BinaryWriter(output, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        foreach (var (key, value) in sorted)
        {
            writer.Write((byte)1);
            keys.Write(writer, key);
            values.Write(writer, value);
        }
        writer.Write((byte)0);
    }

    public static IEnumerable<KeyValuePair<TKey, TValue>> Read<TKey, TValue>(Stream input)
    {
        var keys = Codec.For<TKey>();
        var values = Codec.For<TValue>();
        using var reader = new BinaryReader(input, System.Text.Encoding.UTF8, leaveOpen: true);
        Span<byte> magic = stackalloc byte[4];
        if (input.ReadAtLeast(magic, 4, throwOnEndOfStream: false) != 4 || !magic.SequenceEqual(Magic))
            throw new InvalidDataException("not a sorted run (bad header)");
        while (true)
        {
            int marker;
            try { marker = reader.ReadByte(); }
            catch (EndOfStreamException) { throw new InvalidDataException("sorted run is truncated"); }
            if (marker == 0) yield break;
            if (marker != 1) throw new InvalidDataException($"sorted run is corrupt (marker {marker})");
            KeyValuePair<TKey, TValue> pair;
            try { pair = new(keys.Read(reader), values.Read(reader)); }
            catch (EndOfStreamException) { throw new InvalidDataException("sorted run is truncated"); }
            yield return pair;
        }
    }
}
