using MapReduce.Actors.UserCode;

namespace MapReduce.Tests.UserCode;

public sealed class CompiledCodeCacheTests : IDisposable
{
    private const string WordCount = """
        IEnumerable<(string, int)> Map(string docId, string chunk)
        {
            foreach (var w in chunk.Split(' ')) yield return (w, 1);
        }
        long Reduce(string key, IEnumerable<int> values) => values.Sum();
        """;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mapreduce-code-cache-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static Func<Task<byte[]>> Source(string text, List<string> loads) => () =>
    {
        loads.Add(text);
        return Task.FromResult(System.Text.Encoding.UTF8.GetBytes(text));
    };

    [Fact]
    public async Task A_second_cache_on_the_same_folder_loads_the_image_without_the_source()
    {
        var loads = new List<string>();
        var first = await new CompiledCodeCache(_folder).GetOrCompile("code-abc", Source(WordCount, loads));
        Assert.Single(loads);
        var image = new CompiledCodeCache(_folder).ImagePath("code-abc")!;
        Assert.True(File.Exists(image));
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));

        var log = new List<string>();
        // A new cache is what a new worker process starts with: it must not ask for the source.
        var second = await new CompiledCodeCache(_folder, log.Add).GetOrCompile("code-abc",
            () => throw new InvalidOperationException("the source must not be needed"));
        Assert.Equal([typeof(string), typeof(int), typeof(long)], new[] { second.KeyType, second.ValueType, second.ResultType });
        Assert.Contains(log, l => l.Contains("compiled code loaded from") && l.Contains(image));
        Assert.NotSame(first, second);
    }

    [Fact]
    public async Task A_corrupt_image_is_ignored_and_compiled_again()
    {
        var cache = new CompiledCodeCache(_folder);
        var image = cache.ImagePath("code-bad")!;
        Directory.CreateDirectory(_folder);
        await File.WriteAllBytesAsync(image, [0x4d, 0x5a, 1, 2, 3]);

        var loads = new List<string>();
        var log = new List<string>();
        var task = await new CompiledCodeCache(_folder, log.Add).GetOrCompile("code-bad", Source(WordCount, loads));
        Assert.Single(loads);
        Assert.Equal(typeof(long), task.ResultType);
        Assert.Contains(log, l => l.Contains("ignoring the unreadable cached image"));
        // Replaced by a good image, which the next process loads.
        var again = await new CompiledCodeCache(_folder).GetOrCompile("code-bad", () => throw new InvalidOperationException("not needed"));
        Assert.Equal(typeof(long), again.ResultType);
    }

    [Fact]
    public async Task Compile_errors_are_as_without_a_cache_and_nothing_is_written()
    {
        const string broken = "IEnumerable<(string,int)> Map(string d, string c) => null;\nint Reduce(string k, IEnumerable<int> v) => undefinedThing;";
        var plain = Assert.Throws<CompileErrorException>(() => ScriptCompiler.Compile(broken));
        var cached = await Assert.ThrowsAsync<CompileErrorException>(() => new CompiledCodeCache(_folder).GetOrCompile("code-broken", Source(broken, [])));
        Assert.Equal(plain.Message, cached.Message);
        Assert.False(Directory.Exists(_folder) && Directory.EnumerateFileSystemEntries(_folder).Any());
    }

    [Fact]
    public async Task A_signature_error_is_the_same_from_a_cached_image()
    {
        // Compiles, but Reduce does not take Map's value type: the error comes from binding, not Roslyn.
        const string mismatched = "IEnumerable<(string,int)> Map(string d, string c) => null;\nint Reduce(string k, IEnumerable<long> v) => 0;";
        var plain = Assert.Throws<CompileErrorException>(() => ScriptCompiler.Compile(mismatched));
        var first = await Assert.ThrowsAsync<CompileErrorException>(() => new CompiledCodeCache(_folder).GetOrCompile("code-sig", Source(mismatched, [])));
        Assert.Equal(plain.Message, first.Message);
        var second = await Assert.ThrowsAsync<CompileErrorException>(() => new CompiledCodeCache(_folder).GetOrCompile("code-sig", Source(mismatched, [])));
        Assert.Equal(plain.Message, second.Message);
    }

    [Fact]
    public void Ids_that_are_not_plain_file_names_are_not_cached_on_disk()
    {
        var cache = new CompiledCodeCache(_folder);
        Assert.Null(cache.ImagePath("../escape"));
        Assert.Null(cache.ImagePath("code-abc\n"));
        Assert.Null(new CompiledCodeCache().ImagePath("code-abc"));
        Assert.EndsWith($"code-abc-{CompiledCodeCache.ImageVersion}.dll", cache.ImagePath("code-abc"));
    }
}
