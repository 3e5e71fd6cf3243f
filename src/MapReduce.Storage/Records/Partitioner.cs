using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace MapReduce.Storage.Records;

/// <summary>
/// Assigns a key to one of R partitions by a hash of its encoded bytes: the default partitioner.
/// The hash is XxHash3 over the codec's encoding (or a string's UTF-16 code units, lone
/// surrogates replaced by U+FFFD as the stored key has them), so every
/// process on every machine puts a key in the same partition, unlike <see cref="object.GetHashCode"/>,
/// which is randomised per process. Not thread-safe (one scratch buffer).
/// </summary>
public sealed class Partitioner<TKey>
{
    private readonly int _partitions;
    private readonly Codec<TKey> _codec = Codec.For<TKey>();
    private readonly ByteWriter _scratch = new();

    public Partitioner(int partitions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        _partitions = partitions;
    }

    public int PartitionOf(TKey key)
    {
        ulong hash;
        if (key is string s)
        {
            hash = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(AsStored(s).AsSpan()));
        }
        else
        {
            _scratch.Clear();
            _codec.Write(_scratch, key);
            hash = XxHash3.HashToUInt64(_scratch.Written);
        }
        return (int)(hash % (ulong)_partitions);
    }

    /// <summary>
    /// The string a key is stored as: UTF-8 has no lone surrogate, so writing one gives U+FFFD, and
    /// two keys that differ only there become one key; hashing what is stored keeps that key in one
    /// partition. Valid text (nearly every key, so checked first, vectorized) is hashed as it is.
    /// </summary>
    internal static string AsStored(string key)
    {
        var first = key.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (first < 0 || Utf16Valid(key.AsSpan(first))) return key;
        return Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(key));
    }

    private static bool Utf16Valid(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (!char.IsSurrogate(text[i])) continue;
            if (!char.IsHighSurrogate(text[i]) || i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1])) return false;
            i++;
        }
        return true;
    }
}
