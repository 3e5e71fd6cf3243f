using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace MapReduce.Storage.Records;

/// <summary>
/// A growable byte buffer that records are encoded into: a map task's arena, a run's segment, a
/// key to hash. Integers are written as <see cref="BinaryWriter"/> writes them (7-bit varints,
/// little-endian fixed widths), so encodings and the partitions hashed from them stay what they were.
/// </summary>
public sealed class ByteWriter(int capacity = 256)
{
    private byte[] _buffer = new byte[Math.Max(capacity, 16)];

    /// <summary>Bytes written so far.</summary>
    public int Length { get; private set; }

    public byte[] Buffer => _buffer;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    public void Clear() => Length = 0;

    /// <summary>Forgets what was written after <paramref name="length"/> (a record that did not fit).</summary>
    public void Truncate(int length) => Length = length;

    /// <summary>Room for <paramref name="count"/> more bytes; the span to fill, followed by <see cref="Advance"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetSpan(int count)
    {
        if (_buffer.Length - Length < count) Grow(count);
        return _buffer.AsSpan(Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance(int count) => Length += count;

    private void Grow(int count)
    {
        var needed = (long)Length + count;
        if (needed > Array.MaxLength) throw new InvalidOperationException($"a record buffer cannot grow past {Array.MaxLength} bytes");
        var size = Math.Max(needed, Math.Min((long)_buffer.Length * 2, Array.MaxLength));
        Array.Resize(ref _buffer, (int)size);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteByte(byte value)
    {
        if (Length == _buffer.Length) Grow(1);
        _buffer[Length++] = value;
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        Length += bytes.Length;
    }

    /// <summary>As <see cref="BinaryWriter.Write7BitEncodedInt"/>: a negative number takes five bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteVarInt(int value)
    {
        var v = (uint)value;
        if (v < 0x80 && Length < _buffer.Length)
        {
            _buffer[Length++] = (byte)v;
            return;
        }
        var span = GetSpan(5);
        var n = 0;
        while (v >= 0x80)
        {
            span[n++] = (byte)(v | 0x80);
            v >>= 7;
        }
        span[n++] = (byte)v;
        Length += n;
    }

    /// <summary>As <see cref="BinaryWriter.Write7BitEncodedInt64"/>.</summary>
    public void WriteVarLong(long value)
    {
        var v = (ulong)value;
        var span = GetSpan(10);
        var n = 0;
        while (v >= 0x80)
        {
            span[n++] = (byte)(v | 0x80);
            v >>= 7;
        }
        span[n++] = (byte)v;
        Length += n;
    }

    public void WriteInt16(short value) { BinaryPrimitives.WriteInt16LittleEndian(GetSpan(2), value); Length += 2; }
    public void WriteUInt16(ushort value) { BinaryPrimitives.WriteUInt16LittleEndian(GetSpan(2), value); Length += 2; }
    public void WriteInt32(int value) { BinaryPrimitives.WriteInt32LittleEndian(GetSpan(4), value); Length += 4; }
    public void WriteInt64(long value) { BinaryPrimitives.WriteInt64LittleEndian(GetSpan(8), value); Length += 8; }
    public void WriteDouble(double value) { BinaryPrimitives.WriteDoubleLittleEndian(GetSpan(8), value); Length += 8; }
    public void WriteSingle(float value) { BinaryPrimitives.WriteSingleLittleEndian(GetSpan(4), value); Length += 4; }
}
