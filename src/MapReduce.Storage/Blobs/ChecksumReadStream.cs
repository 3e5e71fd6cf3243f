namespace MapReduce.Storage.Blobs;

/// <summary>
/// A whole blob read through its checksum: yields the blob's bytes and hashes them on the way;
/// the read that reaches the stored length checks the digest and throws
/// <see cref="BlobCorruptException"/> instead of returning the last bytes when it differs, so a
/// reader that stops at the length (and never reads to the end) is checked too. A source that ends
/// before the stored length is corrupt as well. Owns the source.
/// </summary>
public sealed class ChecksumReadStream(Stream source, BlobChecksum expected, string key) : Stream
{
    private readonly BlobHasher _hasher = BlobHasher.For(expected.Algorithm);
    private long _read;
    private bool _checked;

    /// <summary>The stream without the check (the data channel relays it, and the client checks).</summary>
    public Stream Unchecked => source;

    public BlobChecksum Expected => expected;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => expected.Length;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var room = Room(buffer.Length);
        if (room == 0) return Finish(buffer.Length);
        return Took(buffer[..room], source.Read(buffer[..room]), buffer.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var room = Room(buffer.Length);
        if (room == 0) return Finish(buffer.Length);
        var n = await source.ReadAsync(buffer[..room], ct).ConfigureAwait(false);
        return Took(buffer.Span[..room], n, buffer.Length);
    }

    private int Room(int wanted) => (int)Math.Min(wanted, expected.Length - _read);

    private int Took(Span<byte> buffer, int n, int wanted)
    {
        if (n == 0) throw new BlobCorruptException(key, $"it ended after {_read} of its {expected.Length} bytes");
        _hasher.Append(buffer[..n]);
        _read += n;
        if (_read == expected.Length) Check();
        return n;
    }

    /// <summary>At the stored length (an empty blob is checked here); the stores give sources of the blob's length.</summary>
    private int Finish(int wanted)
    {
        if (wanted > 0) Check();
        return 0;
    }

    private void Check()
    {
        if (_checked) return;
        expected.Check(_hasher.Finish(), key);
        _checked = true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            source.Dispose();
            _hasher.Dispose();
        }
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
