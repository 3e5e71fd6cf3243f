namespace MapReduce.Storage.Blobs;

/// <summary>
/// A whole blob read through its checksum: yields the blob's bytes and hashes them on the way;
/// the read that reaches the stored length checks the digest and throws
/// <see cref="BlobCorruptException"/> instead of returning the last bytes when it differs, so a
/// reader that stops at the length (and never reads to the end) is checked too. A source that ends
/// before the stored length, or goes on past it (found by a reader that asks for more), is corrupt
/// as well. Owns the source.
/// </summary>
public sealed class ChecksumReadStream(Stream source, BlobChecksum expected, string key) : Stream
{
    private readonly BlobHasher _hasher = BlobHasher.For(expected.Algorithm);
    private long _read;
    private bool _checked;
    private bool _probed;

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
        if (room == 0) return Finish(buffer.Length, () => source.Read(stackalloc byte[1]));
        return Took(buffer[..room], source.Read(buffer[..room]), buffer.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var room = Room(buffer.Length);
        if (room == 0)
        {
            var beyond = buffer.Length > 0 && !_probed ? await source.ReadAsync(new byte[1], ct).ConfigureAwait(false) : 0;
            return Finish(buffer.Length, () => beyond);
        }
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

    /// <summary>
    /// At the stored length (an empty blob is checked here). A reader that asks for more learns
    /// whether the source goes on past it (<paramref name="readBeyond"/>, once): then it is longer
    /// than the blob that was stored, and corrupt too.
    /// </summary>
    private int Finish(int wanted, Func<int> readBeyond)
    {
        if (wanted == 0) return 0;
        Check();
        if (!_probed)
        {
            _probed = true;
            if (readBeyond() > 0) throw new BlobCorruptException(key, $"it holds more than the {expected.Length} bytes stored");
        }
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
