namespace MapReduce.Storage.Blobs;

/// <summary>
/// Exposes exactly <c>length</c> bytes of a source stream from its current position (a byte range
/// of an input file, a request body) and fails if the source ends sooner, so an upload is never
/// published short. Seekable when the source is: the S3 SDK hashes a seekable body for its
/// signature and then sends it as is, where it would otherwise frame it as aws-chunked, which not
/// every S3-compatible server decodes.
/// </summary>
public sealed class ExactLengthStream : Stream
{
    private readonly Stream _source;
    private readonly long _length;
    private readonly long _origin;
    private long _read;

    private readonly bool _ownsSource;

    /// <param name="ownsSource">Whether disposing this stream disposes the source.</param>
    public ExactLengthStream(Stream source, long length, bool ownsSource = false)
    {
        _source = source;
        _ownsSource = ownsSource;
        _length = length;
        _origin = source.CanSeek ? source.Position : 0;
    }

    public override bool CanRead => true;
    public override bool CanSeek => _source.CanSeek;
    public override bool CanWrite => false;
    public override long Length => _length;

    public override long Position
    {
        get => _read;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        if (!_source.CanSeek) throw new NotSupportedException();
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _read + offset,
            _ => _length + offset,
        };
        if (target < 0 || target > _length) throw new ArgumentOutOfRangeException(nameof(offset));
        _source.Position = _origin + target;
        _read = target;
        return target;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = _source.Read(buffer[..Wanted(buffer.Length)]);
        return Counted(n, buffer.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var n = await _source.ReadAsync(buffer[..Wanted(buffer.Length)], ct).ConfigureAwait(false);
        return Counted(n, buffer.Length);
    }

    private int Wanted(int room) => (int)Math.Min(room, _length - _read);

    private int Counted(int n, int room)
    {
        if (n == 0 && room > 0 && _read < _length)
            throw new EndOfStreamException($"the source ended after {_read} of {_length} bytes");
        _read += n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsSource) _source.Dispose();
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
