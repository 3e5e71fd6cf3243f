using CsCheck;
using MapReduce.Storage.Records;

namespace MapReduce.Tests.Storage;

/// <summary>
/// The default partitioner over random keys of several types and 1 to 10,000 reducers (the
/// master's limit): always a partition from 0 to R - 1, and the same one from a fresh instance
/// (every process, every machine), also right after another key of another length was hashed.
/// </summary>
public class PartitionerPropertyTests
{
    private static readonly Gen<int> Reducers = Gen.Frequency((3, (IGen<int>)Gen.Int[1, 16]), (1, (IGen<int>)Gen.Int[1, 10_000]), (1, (IGen<int>)Gen.OneOf(1, 9_999, 10_000)));

    [Fact]
    public void Every_key_gets_a_partition_in_range_and_always_the_same_one()
    {
        InRangeAndStable(CodecPropertyTests.AnyUtf16.Null());
        InRangeAndStable(Gen.Int);
        InRangeAndStable(Gen.Long);
        InRangeAndStable(Gen.Double.Special);
        InRangeAndStable(Gen.Select(CodecPropertyTests.Text, Gen.Int));
        InRangeAndStable(Gen.Int.Array[0, 6]);
    }

    private static void InRangeAndStable<T>(Gen<T> keys)
    {
        Gen.Select(keys.Array[1, 8], Reducers).Sample((batch, reducers) =>
        {
            var shared = new Partitioner<T>(reducers);
            foreach (var key in batch)
            {
                var partition = shared.PartitionOf(key);
                Assert.InRange(partition, 0, reducers - 1);
                Assert.Equal(partition, new Partitioner<T>(reducers).PartitionOf(key));
            }
        }, iter: 2000, threads: 1);
    }

    [Fact]
    public void No_reducers_is_refused_when_the_partitioner_is_made()
    {
        Gen.Int[int.MinValue, 0].Sample(reducers => { Assert.Throws<ArgumentOutOfRangeException>(() => new Partitioner<string>(reducers)); }, iter: 200, threads: 1);
    }
}
