using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace MapReduce.Storage.Records;

/// <summary>
/// How a key is written into map output. For strings, ints and longs the bytes sort as the keys
/// do (<see cref="IsOrdered"/>), so map output is sorted and merged by comparing bytes (an 8-byte
/// prefix first, as Spark's Tungsten sort and Hadoop's raw comparators do) and a key is decoded
/// only when Reduce needs it. Other key types are written with their <see cref="Codec{T}"/> and
/// compared decoded, in <see cref="KeyOrder"/>.
/// </summary>
public abstract class KeyFormat<TKey>
{
    public static readonly KeyFormat<TKey> Instance = Create();

    /// <summary>Whether comparing the bytes (<see cref="KeyBytes.Compare"/>) orders keys as <see cref="KeyOrder.For{TKey}"/> does, and equal bytes mean equal keys.</summary>
    public abstract bool IsOrdered { get; }

    public abstract void Write(ByteWriter writer, TKey key);

    public abstract TKey Read(ReadOnlySpan<byte> bytes);

    private static KeyFormat<TKey> Create()
    {
        object format = typeof(TKey) == typeof(string) ? new StringKeys()
            : typeof(TKey) == typeof(int) ? new Int32Keys()
            : typeof(TKey) == typeof(long) ? new Int64Keys()
            : new CodecKeys();
        return (KeyFormat<TKey>)format;
    }

    /// <summary>
    /// UTF-8, except that the lead bytes 0xEE and 0xEF (characters U+E000 to U+FFFF) are written as
    /// 0xFE and 0xFF, which UTF-8 never uses: plain UTF-8 sorts as code points do, while .NET's
    /// ordinal order compares UTF-16 code units, in which a surrogate pair (U+10000 and above,
    /// lead bytes 0xF0 to 0xF4) comes before U+E000..U+FFFF. With the two bytes moved past 0xF4,
    /// comparing bytes gives exactly <see cref="StringComparer.Ordinal"/>'s order.
    /// </summary>
    private sealed class StringKeys : KeyFormat<string>
    {
        public override bool IsOrdered => true;

        public override void Write(ByteWriter writer, string key)
        {
            var span = writer.GetSpan(key.Length * 3);
            var n = Encoding.UTF8.GetBytes(key, span);
            var bytes = span[..n];
            var at = bytes.IndexOfAnyInRange((byte)0xEE, (byte)0xEF);
            while (at >= 0)
            {
                bytes[at] += 0x10;
                var next = bytes[(at + 1)..].IndexOfAnyInRange((byte)0xEE, (byte)0xEF);
                at = next < 0 ? -1 : at + 1 + next;
            }
            writer.Advance(n);
        }

        public override string Read(ReadOnlySpan<byte> bytes)
        {
            if (bytes.IndexOfAnyInRange((byte)0xFE, (byte)0xFF) < 0) return Encoding.UTF8.GetString(bytes);
            var copy = ArrayPool<byte>.Shared.Rent(bytes.Length);
            try
            {
                for (var i = 0; i < bytes.Length; i++) copy[i] = bytes[i] is 0xFE or 0xFF ? (byte)(bytes[i] - 0x10) : bytes[i];
                return Encoding.UTF8.GetString(copy, 0, bytes.Length);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }
    }

    /// <summary>Four bytes, big-endian, sign bit flipped: negative numbers first.</summary>
    private sealed class Int32Keys : KeyFormat<int>
    {
        public override bool IsOrdered => true;

        public override void Write(ByteWriter writer, int key)
        {
            BinaryPrimitives.WriteUInt32BigEndian(writer.GetSpan(4), (uint)key ^ 0x8000_0000u);
            writer.Advance(4);
        }

        public override int Read(ReadOnlySpan<byte> bytes) =>
            bytes.Length == 4 ? (int)(BinaryPrimitives.ReadUInt32BigEndian(bytes) ^ 0x8000_0000u) : throw new InvalidDataException("an int key is not 4 bytes long");
    }

    private sealed class Int64Keys : KeyFormat<long>
    {
        public override bool IsOrdered => true;

        public override void Write(ByteWriter writer, long key)
        {
            BinaryPrimitives.WriteUInt64BigEndian(writer.GetSpan(8), (ulong)key ^ 0x8000_0000_0000_0000ul);
            writer.Advance(8);
        }

        public override long Read(ReadOnlySpan<byte> bytes) =>
            bytes.Length == 8 ? (long)(BinaryPrimitives.ReadUInt64BigEndian(bytes) ^ 0x8000_0000_0000_0000ul) : throw new InvalidDataException("a long key is not 8 bytes long");
    }

    private sealed class CodecKeys : KeyFormat<TKey>
    {
        private readonly Codec<TKey> _codec = Codec.For<TKey>();

        public override bool IsOrdered => false;

        public override void Write(ByteWriter writer, TKey key) => _codec.Write(writer, key);

        public override TKey Read(ReadOnlySpan<byte> bytes)
        {
            var reader = new ByteReader(bytes);
            var key = _codec.Read(ref reader);
            if (!reader.AtEnd) throw new InvalidDataException("a key has bytes past its end");
            return key;
        }
    }
}

/// <summary>Comparisons of keys written by an ordered <see cref="KeyFormat{TKey}"/>.</summary>
public static class KeyBytes
{
    /// <summary>The first 8 bytes as a big-endian number (shorter keys padded with zeros): comparing prefixes orders keys that differ in them.</summary>
    public static ulong Prefix(ReadOnlySpan<byte> key)
    {
        if (key.Length >= 8) return BinaryPrimitives.ReadUInt64BigEndian(key);
        ulong prefix = 0;
        for (var i = 0; i < key.Length; i++) prefix |= (ulong)key[i] << (56 - 8 * i);
        return prefix;
    }

    public static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.SequenceCompareTo(b);
}
