namespace MapReduce.Storage.Records;

/// <summary>Writes a run (<see cref="RunFormat"/>) to a stream, buffered, and LZ4-compressed when asked; <see cref="Complete"/> writes the end marker.</summary>
public sealed class RunWriter
{
    private const int FlushAt = 1 << 16;

    private readonly Stream _output;
    private readonly ByteWriter _buffer = new(FlushAt + 1024);

    public RunWriter(Stream output, bool compress = false)
    {
        Span<byte> header = [.. RunFormat.Magic, compress ? RunFormat.Lz4 : RunFormat.NoFlags];
        output.Write(header);
        _output = compress ? K4os.Compression.LZ4.Streams.LZ4Stream.Encode(output, K4os.Compression.LZ4.LZ4Level.L00_FAST, leaveOpen: true) : output;
    }

    /// <summary>Values written so far.</summary>
    public long Values { get; private set; }

    /// <summary>Bytes of segments written so far, before any compression; the header and end marker not included.</summary>
    public long Bytes { get; private set; }

    public void WriteSegment(ReadOnlySpan<byte> key, int valueCount, ReadOnlySpan<byte> values)
    {
        var before = _buffer.Length;
        _buffer.WriteVarInt(key.Length + 1);
        _buffer.WriteVarInt(valueCount);
        _buffer.WriteVarInt(values.Length);
        var header = _buffer.Length - before;
        if (_buffer.Length + key.Length + values.Length <= _buffer.Buffer.Length || key.Length + values.Length < FlushAt)
        {
            _buffer.Write(key);
            _buffer.Write(values);
        }
        else
        {
            // A large segment goes straight to the stream instead of through the buffer.
            _buffer.Write(key);
            Flush();
            _output.Write(values);
        }
        Values += valueCount;
        Bytes += header + key.Length + values.Length;
        if (_buffer.Length >= FlushAt) Flush();
    }

    public void Complete()
    {
        _buffer.WriteVarInt(0);
        Flush();
        if (_output is K4os.Compression.LZ4.Streams.LZ4EncoderStream frame) frame.Dispose(); // ends the frame; the stream below stays open
        else _output.Flush();
    }

    private void Flush()
    {
        _output.Write(_buffer.Written);
        _buffer.Clear();
    }
}
