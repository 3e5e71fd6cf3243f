using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using System.Security.Cryptography;

namespace MapReduce.Storage.Blobs;

/// <summary>
/// What a blob's bytes were when it was stored: their count and digest. The kvstore's folder keeps
/// XxHash3 (<see cref="XxHash3Name"/>) in a sidecar file beside the blob; an object store keeps the
/// SHA-256 its writer recorded for the request's signature anyway (<see cref="Sha256Name"/>).
/// Every whole read is checked against it (<see cref="ChecksumReadStream"/>); a blob stored by a
/// build before checksums has none and is read unverified.
/// </summary>
public sealed record BlobChecksum(string Algorithm, string Digest, long Length)
{
    /// <summary>XxHash3, 64 bits, lowercase hex: fast enough (tens of GB/s) to hash every byte stored and read.</summary>
    public const string XxHash3Name = "xxh3";

    public const string Sha256Name = "sha256";

    /// <summary>"xxh3 0123456789abcdef 1234": how the sidecar file holds it.</summary>
    public override string ToString() => $"{Algorithm} {Digest} {Length.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The checksum in <paramref name="text"/> (as <see cref="ToString"/> writes it), or null when it is none.</summary>
    public static BlobChecksum? Parse(string? text)
    {
        var parts = text?.Trim().Split(' ');
        if (parts is not [var algorithm, var digest, var length]
            || algorithm is not (XxHash3Name or Sha256Name)
            || !long.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out var count)) return null;
        return new BlobChecksum(algorithm, digest, count);
    }

    public static BlobChecksum Of(ReadOnlySpan<byte> data)
    {
        using var hasher = BlobHasher.For(XxHash3Name);
        hasher.Append(data);
        return hasher.Finish();
    }

    /// <summary>The checksum of a file's bytes (read once, sequentially).</summary>
    public static BlobChecksum OfFile(string path, string algorithm = XxHash3Name)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0, FileOptions.SequentialScan);
        return Of(file, algorithm);
    }

    /// <summary>The checksum of a stream's bytes from its position to its end.</summary>
    public static BlobChecksum Of(Stream stream, string algorithm = XxHash3Name)
    {
        using var hasher = BlobHasher.For(algorithm);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int read;
            while ((read = stream.Read(buffer, 0, 1 << 20)) > 0) hasher.Append(buffer.AsSpan(0, read));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return hasher.Finish();
    }

    /// <summary>Throws <see cref="BlobCorruptException"/> unless <paramref name="found"/> is this checksum.</summary>
    public void Check(BlobChecksum found, string key)
    {
        if (found.Length != Length)
            throw new BlobCorruptException(key, $"{found.Length} bytes where {Length} were stored");
        if (!string.Equals(found.Digest, Digest, StringComparison.OrdinalIgnoreCase))
            throw new BlobCorruptException(key, $"checksum mismatch ({Algorithm} {found.Digest}, stored {Digest})");
    }
}

/// <summary>Hashes bytes as they pass, with one of the algorithms <see cref="BlobChecksum"/> knows.</summary>
public sealed class BlobHasher : IDisposable
{
    private readonly string _algorithm;
    private readonly XxHash3? _xxh3;
    private readonly IncrementalHash? _sha256;
    private long _length;

    private BlobHasher(string algorithm)
    {
        _algorithm = algorithm;
        if (algorithm == BlobChecksum.Sha256Name) _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        else _xxh3 = new XxHash3();
    }

    public static BlobHasher For(string algorithm) => algorithm is BlobChecksum.XxHash3Name or BlobChecksum.Sha256Name
        ? new BlobHasher(algorithm)
        : throw new ArgumentException($"unknown checksum algorithm '{algorithm}'", nameof(algorithm));

    public long Length => _length;

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_xxh3 is not null) _xxh3.Append(data);
        else _sha256!.AppendData(data);
        _length += data.Length;
    }

    /// <summary>The checksum of everything appended.</summary>
    public BlobChecksum Finish()
    {
        var digest = _xxh3 is not null ? _xxh3.GetCurrentHash() : _sha256!.GetCurrentHash();
        return new BlobChecksum(_algorithm, Convert.ToHexStringLower(digest), _length);
    }

    public void Dispose() => _sha256?.Dispose();
}

/// <summary>A blob's bytes are not those it was stored with (a flipped or missing byte at rest or on the way).</summary>
public sealed class BlobCorruptException(string key, string why)
    : IOException($"blob {key} is corrupt: {why}")
{
    public string Key { get; } = key;

    /// <summary>What is wrong with it ("checksum mismatch (…)").</summary>
    public string Why { get; } = why;
}
