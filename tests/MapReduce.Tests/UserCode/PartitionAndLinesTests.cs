using System.Text;
using MapReduce.Actors.UserCode;
using MapReduce.Storage.Records;

namespace MapReduce.Tests.UserCode;

/// <summary>A script's own Partition, bare output lines (ReduceLines), a total order (TotalOrder) and the whole-partition Reducer's limit.</summary>
public class PartitionAndLinesTests
{
    private const string Sort = """
        IEnumerable<(string, byte)> Map(string docId, string chunk)
        {
            for (var start = 0; start < chunk.Length;)
            {
                var end = chunk.IndexOf('\n', start);
                if (end < 0) end = chunk.Length;
                yield return (chunk.Substring(start, end - start), 0);
                start = end + 1;
            }
        }
        int Partition(string line, int reducers) => TotalOrder(line, reducers);
        IEnumerable<string> ReduceLines(string line, IEnumerable<byte> copies) { foreach (var _ in copies) yield return line; }
        """;

    [Fact]
    public void A_scripts_Partition_decides_the_partition_and_a_number_out_of_range_names_the_key()
    {
        var task = ScriptCompiler.Compile("""
            IEnumerable<(int, int)> Map(string docId, string chunk) { foreach (var w in chunk.Split(' ')) yield return (int.Parse(w), 1); }
            int Partition(int key, int reducers) => key < 0 ? 0 : key % 10 == 7 ? reducers : 1;
            int Reduce(int key, IEnumerable<int> values) => values.Sum();
            """);
        Assert.True(task.HasPartition);
        Assert.False(task.UsesTotalOrder);
        var runs = Map(task, "-5 3 -5 12", 2);
        Assert.Equal(["-5\t2"], Reduce(task, runs[0]));
        Assert.Equal(["3\t1", "12\t1"], Reduce(task, runs[1]));

        var e = Assert.Throws<UserCodeException>(() => Map(task, "1 17 2", 2));
        Assert.Equal("Partition returned 2 for key '17' on chunk 0; it must be from 0 to 1 (the job has 2 reducers)", e.Message);
    }

    [Fact]
    public void What_Partition_throws_names_Partition_and_the_key()
    {
        var task = ScriptCompiler.Compile("""
            IEnumerable<(string, int)> Map(string docId, string chunk) { yield return (chunk, 1); }
            int Partition(string key, int reducers) => key == "boom" ? throw new ArgumentException("no range for it") : 0;
            int Reduce(string key, IEnumerable<int> values) => values.Sum();
            """);
        var e = Assert.Throws<UserCodeException>(() => Map(task, "boom", 3));
        Assert.Equal("Partition threw on chunk 0 at key 'boom': ArgumentException: no range for it", e.Message);
    }

    [Theory]
    [InlineData("int Partition(string key) => 0;", "task.csx: Partition must have the signature int Partition(TKey key, int reducers) with TKey = String as Map yields; found Int32 Partition(String key)")]
    [InlineData("long Partition(string key, int reducers) => 0;", "task.csx: Partition must have the signature int Partition(TKey key, int reducers) with TKey = String as Map yields; found Int64 Partition(String key, Int32 reducers)")]
    [InlineData("IEnumerable<string> ReduceLines(string k, IEnumerable<int> v) => [];", "task.csx defines both ReduceLines and Reduce; define one of Reduce, ReduceLines or Reducer")]
    public void Misdeclared_functions_are_named_with_the_signature_expected(string extra, string message)
    {
        var e = Assert.Throws<CompileErrorException>(() => ScriptCompiler.Compile($$"""
            IEnumerable<(string, int)> Map(string docId, string chunk) { yield return (chunk, 1); }
            int Reduce(string key, IEnumerable<int> values) => values.Sum();
            {{extra}}
            """));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void ReduceLines_must_yield_strings()
    {
        var e = Assert.Throws<CompileErrorException>(() => ScriptCompiler.Compile("""
            IEnumerable<(string, int)> Map(string docId, string chunk) { yield return (chunk, 1); }
            IEnumerable<int> ReduceLines(string key, IEnumerable<int> values) => values;
            """));
        Assert.Equal("task.csx: ReduceLines must return IEnumerable<string> (each string one output line, written as it is); found IEnumerable<Int32> ReduceLines(String key, IEnumerable<Int32> values)", e.Message);
    }

    [Fact]
    public void ReduceLines_writes_each_line_as_it_is_in_key_order_once_per_copy()
    {
        var task = ScriptCompiler.Compile(Sort.Replace("int Partition(string line, int reducers) => TotalOrder(line, reducers);", ""));
        Assert.False(task.UsesTotalOrder);
        var runs = Map(task, "b\tx\n\na\\b\nb\tx\nA\r\n", 1);
        Assert.Equal("\nA\r\na\\b\nb\tx\nb\tx\n", ReduceText(task, runs[0]));
    }

    [Fact]
    public void TotalOrder_ranges_are_sampled_quantiles_and_the_parts_follow_one_another()
    {
        var task = ScriptCompiler.Compile(Sort);
        Assert.True(task.UsesTotalOrder);
        var random = new Random(5);
        var lines = Enumerable.Range(0, 4000).Select(_ => new string(Enumerable.Range(0, 10).Select(_ => (char)random.Next('!', '~' + 1)).ToArray())).ToList();
        var text = string.Join('\n', lines) + "\n";
        var ranges = task.SampleKeyRanges([("a", text[..(text.Length / 2)]), ("b", text[(text.Length / 2)..])], 4, "the sample");
        // Stored and read back, as every map task reads them.
        var read = (KeyRanges<string>)task.ReadKeyRanges(ranges.Encode());
        Assert.Equal(((KeyRanges<string>)ranges).Boundaries, read.Boundaries);
        Assert.Equal(3, read.Boundaries.Count);

        var context = new AttemptContext { KeyRanges = read };
        var runs = context.Run(() => Map(task, text, 4));
        var parts = Enumerable.Range(0, 4).Select(p => runs.TryGetValue(p, out var run) ? ReduceText(task, run) : "").ToList();
        var expected = lines.Order(StringComparer.Ordinal).Select(l => l + "\n");
        Assert.Equal(string.Concat(expected), string.Concat(parts));
        // Quantiles of the whole input: each range holds about a quarter.
        Assert.All(parts, part => Assert.InRange(part.Count(c => c == '\n'), 800, 1200));
    }

    [Fact]
    public void TotalOrder_without_key_ranges_says_where_they_come_from()
    {
        var task = ScriptCompiler.Compile(Sort);
        var e = Assert.Throws<UserCodeException>(() => Map(task, "x\ny\n", 2));
        Assert.Equal("Partition threw on chunk 0 at key 'x': InvalidOperationException: TotalOrder has no key ranges here: they are sampled for map tasks of a job on the cluster (TotalOrder must be given the key Map yields)", e.Message);
        // One reducer needs no ranges.
        Assert.Equal("x\ny\n", ReduceText(task, Map(task, "y\nx\n", 1)[0]));
    }

    [Fact]
    public void The_whole_partition_Reducer_refuses_a_partition_over_its_limit_naming_it()
    {
        var task = ScriptCompiler.Compile("""
            IEnumerable<(string, string)> Map(string docId, string chunk) { foreach (var w in chunk.Split(' ')) yield return (w, docId); }
            IEnumerable<(string, int)> Reducer(IDictionary<string, List<string>> all) => all.Select(kv => (kv.Key, kv.Value.Count));
            """);
        var runs = Map(task, string.Join(' ', Enumerable.Range(0, 2000).Select(i => $"w{i % 300}")), 1);
        var size = runs[0].Length;
        Assert.Equal(300, ReduceLines(task, runs[0], limit: size).Count);
        runs[0].Position = 0;
        var e = Assert.Throws<UserCodeException>(() => ReduceLines(task, runs[0], limit: size - 1));
        Assert.Equal($"Reducer holds a whole partition in memory, and partition 0 holds {size / 1_048_576.0:0.#} MiB of map output, over the limit of {(size - 1) / 1_048_576.0:0.#} MiB (mapreduce.max-reducer-partition); define Reduce(key, values) instead, which streams, or run more reducers (--reducers)", e.Message);
    }

    private static Dictionary<int, MemoryStream> Map(IUserTask task, string chunk, int partitions)
    {
        var output = task.NewMapOutput(partitions, 1 << 20, Path.GetTempPath());
        task.RunMap("doc", chunk, output, "chunk 0");
        var runs = new Dictionary<int, MemoryStream>();
        output.WriteRuns(p => runs[p] = new KeepOpenStream(), "chunk 0");
        foreach (var run in runs.Values) run.Position = 0;
        return runs;
    }

    private static string ReduceText(IUserTask task, MemoryStream run, long limit = long.MaxValue)
    {
        using var output = new MemoryStream();
        task.RunReduce([run], output, "partition 0", default, limit);
        return Encoding.UTF8.GetString(output.ToArray());
    }

    private static List<string> Reduce(IUserTask task, MemoryStream run) => ReduceLines(task, run);

    private static List<string> ReduceLines(IUserTask task, MemoryStream run, long limit = long.MaxValue) =>
        ReduceText(task, run, limit).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();

    private sealed class KeepOpenStream : MemoryStream
    {
        protected override void Dispose(bool disposing) { }
    }
}
