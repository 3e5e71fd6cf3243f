namespace MapReduce.Storage.Records;

/// <summary>Writes a run (<see cref="RunFormat"/>) to a stream, buffered; <see cref="Complete"/> writes the end marker.</summary>
public sealed class RunWriter
{
    private const int FlushAt = 1 << 16;

    private readonly Stream _output;
    private readonly ByteWriter _buffer = new(FlushAt + 1024);

    public RunWriter(Stream output)
    {
        _output = output;
        _buffer.Write(RunFormat.Magic);
        _buffer.WriteByte(RunFormat.NoFlags);
    }

    /// <summary>Values written so far.</summary>
    public long Values { get; private set; }

    /// <summary>Bytes written so far, the end marker not included.</summary>
    public long Bytes { get; private set; } = RunFormat.Magic.Length + 1;

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
        _output.Flush();
    }

    private void Flush()
    {
        _output.Write(_buffer.Written);
        _buffer.Clear();
    }
}
