namespace MapReduce.Storage.Records;

/// <summary>A partitioner (the script's Partition) gave a key a number outside [0, partitions).</summary>
public sealed class PartitionOutOfRangeException(object? key, int partition, int partitions)
    : Exception($"Partition returned {partition}; it must be from 0 to {partitions - 1} ({partitions} reducers)")
{
    public object? Key => key;
    public int Partition => partition;
    public int Partitions => partitions;
}
