using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace MapReduce.Storage.Records;

/// <summary>
/// Reads what a <see cref="ByteWriter"/> wrote, from a span: a run segment's values, a key. Past
/// the end it throws <see cref="InvalidDataException"/>: the bytes came from a file or the network.
/// </summary>
public ref struct ByteReader(ReadOnlySpan<byte> bytes)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;

    public int Position { get; private set; }

    public readonly int Remaining => _bytes.Length - Position;

    public readonly bool AtEnd => Position == _bytes.Length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte ReadByte()
    {
        if (Position >= _bytes.Length) throw Truncated();
        return _bytes[Position++];
    }

    public ReadOnlySpan<byte> ReadSpan(int count)
    {
        if ((uint)count > (uint)Remaining) throw Truncated();
        var span = _bytes.Slice(Position, count);
        Position += count;
        return span;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadVarInt()
    {
        if (Position < _bytes.Length && _bytes[Position] < 0x80) return _bytes[Position++];
        uint result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = ReadByte();
            result |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) return (int)result;
        }
        throw new InvalidDataException("a record holds a malformed number");
    }

    public long ReadVarLong()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = ReadByte();
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return (long)result;
        }
        throw new InvalidDataException("a record holds a malformed number");
    }

    public short ReadInt16() => BinaryPrimitives.ReadInt16LittleEndian(ReadSpan(2));
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(ReadSpan(2));
    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(ReadSpan(4));
    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(ReadSpan(8));
    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(ReadSpan(8));
    public float ReadSingle() => BinaryPrimitives.ReadSingleLittleEndian(ReadSpan(4));

    private static InvalidDataException Truncated() => new("a record ends before its last byte (the run is corrupt)");
}
