namespace MapReduce.Storage.Records;

/// <summary>
/// Reads a run (<see cref="RunFormat"/>) segment by segment from a stream, through a buffer that
/// holds the current segment whole (it grows for a segment larger than it, which only a huge value
/// makes). A run that ends before its end marker, or holds malformed bytes, throws
/// <see cref="InvalidDataException"/>: it was cut short or corrupted, never silently shortened.
/// </summary>
public sealed class RunReader : IDisposable
{
    private const int HeaderBytes = 15; // three varints

    private Stream _input;
    private byte[] _buffer;
    private int _position, _filled;
    private bool _ended, _compressed;
    private int _keyStart, _keyLength, _valuesStart, _valuesLength;

    public RunReader(Stream input, int bufferSize = 1 << 16)
    {
        _input = input;
        _buffer = new byte[Math.Max(bufferSize, 64)];
        Fill(RunFormat.Magic.Length + 1);
        if (_filled < RunFormat.Magic.Length + 1 || !_buffer.AsSpan(0, 4).SequenceEqual(RunFormat.Magic))
            throw new InvalidDataException(_filled >= 4 && _buffer.AsSpan(0, 3).SequenceEqual("MRR"u8)
                ? $"this run has format {(char)_buffer[3]}, not {(char)RunFormat.Magic[3]} (written by another version)"
                : "not a sorted run (bad header)");
        _position = RunFormat.Magic.Length + 1;
        if (_buffer[4] == RunFormat.Lz4)
        {
            // What was read past the header belongs to the frame: the decoder reads it from a stream that starts with it.
            var read = _buffer.AsSpan(_position, _filled - _position).ToArray();
            _input = K4os.Compression.LZ4.Streams.LZ4Stream.Decode(new PrefixedStream(read, input), leaveOpen: false);
            _compressed = true;
            _position = _filled = 0;
        }
        else if (_buffer[4] != RunFormat.NoFlags) throw new InvalidDataException($"sorted run has unknown flags {_buffer[4]}");
    }

    /// <summary>The current segment's key bytes (valid until the next <see cref="MoveNext"/>).</summary>
    public ReadOnlySpan<byte> Key => _buffer.AsSpan(_keyStart, _keyLength);

    /// <summary>The first 8 bytes of the current key, big-endian (<see cref="KeyBytes.Prefix"/>).</summary>
    public ulong Prefix { get; private set; }

    public int ValueCount { get; private set; }

    /// <summary>The current segment's encoded values (valid until the next <see cref="MoveNext"/>).</summary>
    public ReadOnlySpan<byte> Values => _buffer.AsSpan(_valuesStart, _valuesLength);

    /// <summary>Moves to the next segment; false at the end marker.</summary>
    public bool MoveNext()
    {
        if (_ended) return false;
        if (_filled - _position < HeaderBytes) Fill(HeaderBytes);
        var header = new ByteReader(_buffer.AsSpan(_position, _filled - _position));
        int keyLength, count, valueBytes;
        try
        {
            keyLength = header.ReadVarInt() - 1;
            if (keyLength < 0)
            {
                _ended = true;
                if (keyLength != -1) throw new InvalidDataException("sorted run is corrupt (a negative key length)");
                ReadToEnd();
                return false;
            }
            count = header.ReadVarInt();
            valueBytes = header.ReadVarInt();
        }
        catch (InvalidDataException) when (_filled - _position < HeaderBytes)
        {
            throw new InvalidDataException("sorted run is truncated");
        }
        if (count < 1 || valueBytes < 0) throw new InvalidDataException("sorted run is corrupt (a segment without values)");
        var total = (long)header.Position + keyLength + valueBytes;
        if (total > Array.MaxLength) throw new InvalidDataException("sorted run is corrupt (a segment larger than memory allows)");
        if (_filled - _position < total)
        {
            Fill((int)total);
            if (_filled - _position < total) throw new InvalidDataException("sorted run is truncated");
        }
        _keyStart = _position + header.Position;
        _keyLength = keyLength;
        _valuesStart = _keyStart + keyLength;
        _valuesLength = valueBytes;
        ValueCount = count;
        Prefix = KeyBytes.Prefix(Key);
        _position = _valuesStart + valueBytes;
        return true;
    }

    /// <summary>Reads until at least <paramref name="wanted"/> unread bytes are buffered or the stream ends; moves unread bytes to the front first.</summary>
    private void Fill(int wanted)
    {
        if (_position > 0)
        {
            Buffer.BlockCopy(_buffer, _position, _buffer, 0, _filled - _position);
            _filled -= _position;
            _position = 0;
        }
        while (_filled < wanted)
        {
            // Grown as bytes arrive, not to what a segment header claims: a corrupt length is found short, not allocated.
            if (_filled == _buffer.Length) Array.Resize(ref _buffer, (int)Math.Min(Math.Max(wanted, 64L), Math.Min(_buffer.Length * 2L, Array.MaxLength)));
            int n;
            try { n = _input.Read(_buffer, _filled, _buffer.Length - _filled); }
            catch (EndOfStreamException) { throw new InvalidDataException("sorted run is truncated"); } // an LZ4 frame cut short
            catch (Exception e) when (_compressed && e is ArgumentException or InvalidOperationException or IndexOutOfRangeException)
            {
                throw new InvalidDataException($"sorted run is corrupt (its LZ4 frame does not decode: {e.Message})", e);
            }
            if (n == 0) break;
            _filled += n;
        }
    }

    /// <summary>
    /// Reads what follows the end marker (an LZ4 frame's end, nothing in a plain run): a stored run
    /// is checked against its checksum when its last byte is read (<c>ChecksumReadStream</c>).
    /// </summary>
    private void ReadToEnd()
    {
        Span<byte> rest = stackalloc byte[256];
        while (_input.Read(rest) > 0) { }
    }

    public void Dispose() => _input.Dispose();

    /// <summary>Bytes already read from a stream, then the rest of the stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream rest) : Stream
    {
        private int _offset;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_offset < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.AsSpan(_offset, n).CopyTo(buffer);
                _offset += n;
                return n;
            }
            return rest.Read(buffer);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) rest.Dispose();
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
