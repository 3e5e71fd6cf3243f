using System.Text;
using MapReduce.Actors.UserCode;

namespace MapReduce.Tests.UserCode;

public class ScriptCompilerTests
{
    private const string WordCount = """
        IEnumerable<(string, int)> Map(string docId, string chunk)
        {
            foreach (var w in chunk.Split(default(char[]), StringSplitOptions.RemoveEmptyEntries)) yield return (w, 1);
        }
        int Reduce(string key, IEnumerable<int> values) => values.Sum();
        """;

    [Fact]
    public void Binds_the_types_Map_and_Reduce_declare()
    {
        var task = ScriptCompiler.Compile(WordCount);
        Assert.Equal(typeof(string), task.KeyType);
        Assert.Equal(typeof(int), task.ValueType);
        Assert.Equal(typeof(int), task.ResultType);
        Assert.False(task.HasCombine);
    }

    [Fact]
    public void Map_then_reduce_counts_words_across_chunks_and_partitions()
    {
        var task = ScriptCompiler.Compile(WordCount);
        var runsByPartition = new Dictionary<int, List<MemoryStream>>();
        foreach (var chunk in new[] { "b a c\na\n", "c a\n" })
        {
            RunMap(task, "doc.txt", chunk, 3, p =>
            {
                var run = new KeepOpenStream();
                if (!runsByPartition.TryGetValue(p, out var list)) runsByPartition[p] = list = [];
                list.Add(run);
                return run;
            }, "test");
        }
        var lines = new List<string>();
        foreach (var (_, runs) in runsByPartition.OrderBy(kv => kv.Key))
        {
            using var output = new MemoryStream();
            foreach (var run in runs) run.Position = 0;
            task.RunReduce(runs.Cast<Stream>().ToList(), output, "test");
            lines.AddRange(Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        Assert.Equal(["a\t3", "b\t1", "c\t2"], lines.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Compile_errors_name_the_file_line_and_column()
    {
        var e = Assert.Throws<CompileErrorException>(() => ScriptCompiler.Compile("int x = ;\nIEnumerable<(string,int)> Map(string d, string c) => null;\nint Reduce(string k, IEnumerable<int> v) => undefinedThing;"));
        Assert.Contains("task.csx(1,9): error CS1525", e.Message);
        Assert.Contains("task.csx(3,45): error CS0103: The name 'undefinedThing' does not exist in the current context", e.Message);
    }

    [Fact]
    public void A_script_without_Map_is_rejected_with_the_expected_signature()
    {
        var e = Assert.Throws<CompileErrorException>(() => ScriptCompiler.Compile("int Reduce(string k, IEnumerable<int> v) => 0;"));
        Assert.Equal("task.csx must define: IEnumerable<(TKey, TValue)> Map(string docId, string chunk)", e.Message);
    }

    [Fact]
    public void A_Reduce_whose_types_differ_from_Map_is_rejected()
    {
        var e = Assert.Throws<CompileErrorException>(() => ScriptCompiler.Compile(
            "IEnumerable<(string,int)> Map(string d, string c) { yield break; }\nint Reduce(string k, IEnumerable<long> v) => 0;"));
        Assert.StartsWith("task.csx: Reduce must have the signature TResult Reduce(TKey key, IEnumerable<TValue> values) with TKey = String and TValue = Int32", e.Message);
    }

    [Fact]
    public void A_throwing_Map_names_the_place_and_the_exception()
    {
        var task = ScriptCompiler.Compile("IEnumerable<(string,int)> Map(string d, string c) { throw new InvalidOperationException(\"boom\"); }\nint Reduce(string k, IEnumerable<int> v) => 0;");
        var e = Assert.Throws<UserCodeException>(() => RunMap(task, "a.txt", "x", 1, _ => new MemoryStream(), "document 'a.txt' chunk 0"));
        Assert.Equal("Map threw on document 'a.txt' chunk 0: InvalidOperationException: boom", e.Message);
    }

    [Fact]
    public void User_declared_record_values_round_trip_through_runs()
    {
        var task = ScriptCompiler.Compile("""
            public record Stat(int Count, string First);
            IEnumerable<(string, Stat)> Map(string d, string c) { foreach (var w in c.Split(' ')) yield return (w.ToLowerInvariant(), new Stat(1, w)); }
            string Reduce(string k, IEnumerable<Stat> v) { var all = v.ToList(); return $"{all.Sum(s => s.Count)}:{all[0].First}"; }
            """);
        var run = new KeepOpenStream();
        RunMap(task, "d", "Hi hi HI yo", 1, _ => run, "t");
        run.Position = 0;
        using var output = new MemoryStream();
        task.RunReduce([run], output, "t");
        Assert.Equal("hi\t3:Hi\nyo\t1:yo\n", Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public void Combine_folds_values_as_they_arrive_and_the_total_is_exact()
    {
        var task = ScriptCompiler.Compile(WordCount + "\nint Combine(string key, IEnumerable<int> values) => values.Sum();");
        Assert.True(task.HasCombine);
        var run = new KeepOpenStream();
        RunMap(task, "d", string.Join(' ', Enumerable.Repeat("a", 1000)) + " b", 1, _ => run, "t");
        run.Position = 0;
        using var output = new MemoryStream();
        task.RunReduce([run], output, "t");
        Assert.Equal("a\t1000\nb\t1\n", Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public void A_throwing_Combine_is_named_with_its_key()
    {
        var task = ScriptCompiler.Compile(WordCount + "\nint Combine(string key, IEnumerable<int> values) => throw new ArgumentException(\"no\");");
        var e = Assert.Throws<UserCodeException>(() => RunMap(task, "a.txt", "x x", 1, _ => new MemoryStream(), "document 'a.txt', chunk 0"));
        Assert.Equal("Combine threw on document 'a.txt', chunk 0 at key 'x': ArgumentException: no", e.Message);
    }

    [Fact]
    public void Warm_up_compiles_its_own_script()
    {
        ScriptCompiler.WarmUp(); // throws if the warm-up script stopped compiling
    }

    /// <summary>Map one chunk the way a worker does: a fresh output buffer, then its runs.</summary>
    [Theory]
    [InlineData("if (chunk == \"die\") Environment.Exit(3);")]
    [InlineData("if (chunk == \"die\") System.Environment.Exit(3);")]
    [InlineData("Action<int> quit = Environment.Exit; if (chunk == \"die\") quit(3);")]
    public void Calls_of_Environment_Exit_go_through_the_worker_so_it_knows_which_attempt_exited(string exit)
    {
        var (_, image) = ScriptCompiler.CompileToImage($$"""
            IEnumerable<(string, int)> Map(string docId, string chunk) { {{exit}} yield return (chunk, 1); }
            int Reduce(string k, IEnumerable<int> v) => v.Sum();
            """);
        var called = CalledMethods(image);
        Assert.Contains(called, m => m.DeclaringType == typeof(MapReduce.Actors.Worker.ProcessExitWatch) && m.Name == nameof(MapReduce.Actors.Worker.ProcessExitWatch.ExitFromUserCode));
        Assert.DoesNotContain(called, m => m.DeclaringType == typeof(Environment) && m.Name == nameof(Environment.Exit));
    }

    [Fact]
    public void A_script_with_Exit_of_its_own_keeps_it_and_errors_keep_their_columns()
    {
        var task = ScriptCompiler.Compile("""
            static int Exit(int code) => code * 2;
            IEnumerable<(string, int)> Map(string docId, string chunk) { yield return (nameof(Environment.Exit), Exit(3)); }
            int Reduce(string k, IEnumerable<int> v) => v.Sum();
            """);
        var run = new KeepOpenStream();
        RunMap(task, "doc", "x", 1, _ => run, "test");
        using var output = new MemoryStream();
        run.Position = 0;
        task.RunReduce([run], output, "test");
        Assert.Equal("Exit\t6\n", Encoding.UTF8.GetString(output.ToArray()));

        var e = Assert.Throws<CompileErrorException>(() => ScriptCompiler.Compile(
            "IEnumerable<(string,int)> Map(string d, string c) { Environment.Exit(1); yield return (d, undefinedThing); }\nint Reduce(string k, IEnumerable<int> v) => 0;"));
        Assert.Equal("task.csx does not compile:\ntask.csx(1,91): error CS0103: The name 'undefinedThing' does not exist in the current context", e.Message);
    }

    /// <summary>Every method the compiled script's code calls, read from the call instructions of its IL.</summary>
    private static List<System.Reflection.MethodBase> CalledMethods(byte[] image)
    {
        var context = new System.Runtime.Loader.AssemblyLoadContext("il-scan", isCollectible: true);
        try
        {
            var assembly = context.LoadFromStream(new MemoryStream(image));
            var called = new List<System.Reflection.MethodBase>();
            const System.Reflection.BindingFlags all = System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic
                | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.DeclaredOnly;
            foreach (var type in assembly.GetTypes())
            foreach (var method in type.GetMethods(all).Cast<System.Reflection.MethodBase>().Concat(type.GetConstructors(all)))
            {
                var il = method.GetMethodBody()?.GetILAsByteArray() ?? [];
                // call (0x28), callvirt (0x6F) and ldftn (0xFE 0x06) take a method token; a stray byte that resolves to nothing is skipped.
                for (var i = 0; i + 4 < il.Length; i++)
                {
                    if (il[i] is not (0x28 or 0x6F or 0x06)) continue;
                    try { if (method.Module.ResolveMethod(BitConverter.ToInt32(il, i + 1)) is { } m) called.Add(m); }
                    catch (Exception e) when (e is ArgumentException or BadImageFormatException) { }
                }
            }
            return called;
        }
        finally { context.Unload(); }
    }

    private static int[] RunMap(IUserTask task, string docId, string chunk, int partitions, Func<int, Stream> openRun, string where)
    {
        var output = task.NewMapOutput(partitions, 1 << 20, Path.GetTempPath());
        task.RunMap(docId, chunk, output, where);
        return output.WriteRuns(openRun, where);
    }

    /// <summary>A MemoryStream that survives the using-block of the writer, so the test can read it back.</summary>
    private sealed class KeepOpenStream : MemoryStream
    {
        protected override void Dispose(bool disposing) { }
    }
}
