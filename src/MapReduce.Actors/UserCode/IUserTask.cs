namespace MapReduce.Actors.UserCode;

/// <summary>A compiled task.csx with its key, value and result types bound; what workers run.</summary>
public interface IUserTask
{
    Type KeyType { get; }
    Type ValueType { get; }
    Type ResultType { get; }
    bool HasCombine { get; }

    /// <summary>
    /// Runs Map (and Combine) over one chunk, splits the pairs into <paramref name="partitions"/>
    /// by key hash and writes each non-empty partition as a sorted run to <c>openRun(partition)</c>.
    /// Returns the number of pairs written per partition (0 where no run was written).
    /// </summary>
    int[] RunMap(string docId, string chunk, int partitions, Func<int, Stream> openRun, string where);

    /// <summary>
    /// Merges the sorted runs of one partition, calls Reduce per key (or Reducer once) and writes
    /// "key\tvalue" lines in key order. Returns the number of lines written.
    /// </summary>
    long RunReduce(IReadOnlyList<Stream> runs, Stream output, string where);
}
