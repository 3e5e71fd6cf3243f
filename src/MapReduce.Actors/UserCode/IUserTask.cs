namespace MapReduce.Actors.UserCode;

/// <summary>A compiled task.csx with its key, value and result types bound; what workers run.</summary>
public interface IUserTask
{
    Type KeyType { get; }
    Type ValueType { get; }
    Type ResultType { get; }
    bool HasCombine { get; }
    bool HasPartition { get; }

    /// <summary>Whether the script calls TotalOrder: its map tasks need the job's <see cref="KeyRanges"/> first.</summary>
    bool UsesTotalOrder { get; }

    /// <summary>
    /// Runs Map over sampled text (whole lines from a few chunks) and picks the boundaries of
    /// <paramref name="reducers"/> key ranges at the quantiles of the keys it yields;
    /// <paramref name="where"/> names the sample in errors.
    /// </summary>
    KeyRanges SampleKeyRanges(IEnumerable<(string DocId, string Text)> sample, int reducers, string where);

    /// <summary>Key ranges as <see cref="KeyRanges.Encode"/> stored them, with this script's key type.</summary>
    KeyRanges ReadKeyRanges(ReadOnlySpan<byte> encoded);

    /// <summary>
    /// A buffer for one map task's output over <paramref name="partitions"/> partitions (the
    /// script's Partition, or the stable hash): grouped by key (and combined when the script has
    /// Combine), spilled as sorted runs into <paramref name="spillFolder"/> past
    /// <paramref name="limitBytes"/> of memory.
    /// </summary>
    IMapOutput NewMapOutput(int partitions, long limitBytes, string spillFolder, bool compressRuns = false);

    /// <summary>
    /// Runs Map over one chunk into <paramref name="output"/>; <paramref name="where"/> names the
    /// chunk in error messages. <paramref name="stop"/> is checked between the pairs Map yields.
    /// Returns the number of pairs Map yielded.
    /// </summary>
    long RunMap(string docId, string chunk, IMapOutput output, string where, CancellationToken stop = default);

    /// <summary>What Map's second parameter takes: <c>string</c> (a chunk of text lines, <see cref="RunMap"/>), or a record of another input format (<see cref="MapRecords"/>, <see cref="RunMapRecords"/>).</summary>
    Type RecordType => typeof(string);

    /// <summary>
    /// Runs Map once per record of one chunk (CSV rows, JSON values, a whole file's bytes) into
    /// <paramref name="output"/>; the records are read as Map asks for them, and what reading them
    /// throws (a bad record) is not Map's failure. Returns the number of pairs Map yielded.
    /// </summary>
    long RunMapRecords(string docId, IEnumerable<object> records, IMapOutput output, string where, CancellationToken stop = default) =>
        throw new NotSupportedException("this task's Map reads text lines");

    /// <summary>
    /// Runs Map once per line of <paramref name="text"/> (a job that skips bad records), numbering
    /// its lines from <paramref name="firstLine"/>: a line for which <paramref name="skip"/> is true
    /// is not mapped; <paramref name="mapping"/> hears each line's number before Map gets it; a line
    /// on which Map throws adds nothing to <paramref name="output"/>, and the
    /// <see cref="UserCodeException"/> names it (<see cref="UserCodeException.Line"/>).
    /// Returns the number of pairs Map yielded.
    /// </summary>
    long RunMapByLine(string docId, string text, long firstLine, IMapOutput output, string where, Func<long, bool> skip, Action<long> mapping, CancellationToken stop = default);

    /// <summary>
    /// Merges the sorted runs of one partition, calls Reduce per key (ReduceLines per key, or
    /// Reducer once) and writes "key\tvalue" lines (ReduceLines: its lines as they are) in key
    /// order. Returns the keys it reduced and the lines it wrote. <paramref name="stop"/> is checked
    /// between keys. The whole-partition Reducer refuses a partition whose runs hold more than
    /// <paramref name="wholePartitionLimit"/> bytes.
    /// </summary>
    ReduceCounts RunReduce(IReadOnlyList<Stream> runs, Stream output, string where, CancellationToken stop = default, long wholePartitionLimit = long.MaxValue);

    /// <summary>Merges sorted runs of this script's key type into one run (the reduce's first pass when it has more runs than it opens at once).</summary>
    void MergeRuns(IReadOnlyList<Stream> runs, Stream output, bool compress);
}

/// <summary>What one reduce did: <see cref="Groups"/> distinct keys in, <see cref="Lines"/> lines out.</summary>
public readonly record struct ReduceCounts(long Groups, long Lines);

/// <summary>The output of one map task, typed by the script behind this interface.</summary>
public interface IMapOutput
{
    /// <summary>
    /// Writes one sorted run per non-empty partition to <c>openRun(partition)</c> and returns the
    /// values written per partition (0 where no run was written).
    /// </summary>
    int[] WriteRuns(Func<int, Stream> openRun, string where);

    /// <summary>Times the buffer spilled to disk.</summary>
    int Spills { get; }

    /// <summary>Pairs written to spill files (0 when the buffer never spilled).</summary>
    long SpilledPairs { get; }

    /// <summary>
    /// Empties the buffer for another map task of the same job shape, spilling into
    /// <paramref name="spillFolder"/>; what it learned (its table of keys) is kept.
    /// </summary>
    void Reset(string spillFolder);
}
