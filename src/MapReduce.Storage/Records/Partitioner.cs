using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace MapReduce.Storage.Records;

/// <summary>
/// Assigns a key to one of R partitions by a hash of its encoded bytes: the default partitioner.
/// The hash is XxHash3 over the codec's encoding (or a string's UTF-16 code units), so every
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
            hash = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(s.AsSpan()));
        }
        else
        {
            _scratch.Clear();
            _codec.Write(_scratch, key);
            hash = XxHash3.HashToUInt64(_scratch.Written);
        }
        return (int)(hash % (ulong)_partitions);
    }
}
