using MapReduce.Storage.Records;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// The key ranges of a total order (as Hadoop's TotalOrderPartitioner reads them from its partition
/// file): R - 1 boundaries cut the keys into R ranges, and range r goes to reducer r, so the parts
/// concatenated are globally sorted. A key equal to a boundary goes to the range above it. Picked
/// from a sample of the job's keys (<see cref="IUserTask.SampleKeyRanges"/>), stored once per job
/// and read by every map task, so every attempt partitions alike.
/// </summary>
public abstract class KeyRanges
{
    private static ReadOnlySpan<byte> Magic => "MRK1"u8;

    /// <summary>The reducers (ranges) these boundaries were picked for.</summary>
    public abstract int Reducers { get; }

    /// <summary>The stored form: the magic, the reducer count, the boundaries' count and each boundary's bytes.</summary>
    public abstract byte[] Encode();

    protected static byte[] Encode(int reducers, IReadOnlyList<byte[]> boundaries)
    {
        var writer = new ByteWriter();
        writer.Write(Magic);
        writer.WriteVarInt(reducers);
        writer.WriteVarInt(boundaries.Count);
        foreach (var b in boundaries)
        {
            writer.WriteVarInt(b.Length);
            writer.Write(b);
        }
        return writer.Written.ToArray();
    }

    protected static (int Reducers, List<byte[]> Boundaries) Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Magic.Length || !bytes[..Magic.Length].SequenceEqual(Magic)) throw new InvalidDataException("not a key-ranges blob (bad header)");
        var reader = new ByteReader(bytes[Magic.Length..]);
        var reducers = reader.ReadVarInt();
        var count = reader.ReadVarInt();
        if (reducers < 1 || count != reducers - 1) throw new InvalidDataException($"a key-ranges blob holds {count} boundaries for {reducers} reducers");
        var boundaries = new List<byte[]>(count);
        for (var i = 0; i < count; i++) boundaries.Add(reader.ReadSpan(reader.ReadVarInt()).ToArray());
        if (!reader.AtEnd) throw new InvalidDataException("a key-ranges blob has bytes past its end");
        return (reducers, boundaries);
    }
}

/// <summary>Key ranges over keys of one type, compared in <see cref="KeyOrder"/>.</summary>
public sealed class KeyRanges<TKey> : KeyRanges
{
    private readonly TKey[] _boundaries;
    private readonly IComparer<TKey> _order = KeyOrder.For<TKey>();

    private KeyRanges(int reducers, TKey[] boundaries)
    {
        Reducers = reducers;
        _boundaries = boundaries;
    }

    public override int Reducers { get; }

    public IReadOnlyList<TKey> Boundaries => _boundaries;

    /// <summary>Boundaries at the quantiles of a sample: the sorted sample cut into <paramref name="reducers"/> equal shares.</summary>
    public static KeyRanges<TKey> FromSample(List<TKey> sample, int reducers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(reducers, 1);
        var order = KeyOrder.For<TKey>();
        sample.Sort(order);
        var boundaries = new TKey[reducers - 1];
        if (sample.Count == 0 && reducers > 1)
            throw new InvalidOperationException("the key sample is empty: Map yielded no pair for the sampled input, so no key ranges can be picked");
        for (var i = 0; i < boundaries.Length; i++) boundaries[i] = sample[(int)((long)(i + 1) * sample.Count / reducers)];
        return new KeyRanges<TKey>(reducers, boundaries);
    }

    public static KeyRanges<TKey> Read(ReadOnlySpan<byte> bytes)
    {
        var (reducers, encoded) = Decode(bytes);
        var format = KeyFormat<TKey>.Instance;
        return new KeyRanges<TKey>(reducers, encoded.Select(b => format.Read(b)).ToArray());
    }

    public override byte[] Encode()
    {
        var format = KeyFormat<TKey>.Instance;
        return Encode(Reducers, _boundaries.Select(b =>
        {
            var writer = new ByteWriter();
            format.Write(writer, b);
            return writer.Written.ToArray();
        }).ToList());
    }

    /// <summary>The range of <paramref name="key"/>: how many boundaries are at most it.</summary>
    public int PartitionOf(TKey key)
    {
        int low = 0, high = _boundaries.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (_order.Compare(_boundaries[middle], key) <= 0) low = middle + 1;
            else high = middle;
        }
        return low;
    }
}
