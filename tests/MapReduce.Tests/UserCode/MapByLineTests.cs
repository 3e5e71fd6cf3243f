using System.Text;
using MapReduce.Actors.UserCode;

namespace MapReduce.Tests.UserCode;

/// <summary>Map called once per line (a map task of a job that skips bad records, after it failed): lines skipped, a throwing line named and adding nothing.</summary>
public sealed class MapByLineTests
{
    // Yields a line's words, then throws when the line holds BAD: the words it yielded must not reach the output.
    private static readonly IUserTask Task = ScriptCompiler.Compile("""
        IEnumerable<(string, int)> Map(string docId, string chunk)
        {
            foreach (var w in chunk.Split(new[] { ' ', '\n' }, StringSplitOptions.RemoveEmptyEntries)) yield return (w, 1);
            if (chunk.Contains("BAD")) throw new InvalidOperationException("bad line");
        }
        int Reduce(string word, IEnumerable<int> counts) => counts.Sum();
        """);

    private const string Text = "a b\nx BAD\nd a\n";

    [Fact]
    public void Skipped_lines_are_not_mapped_and_each_other_line_is_mapped_alone_numbered_from_the_first()
    {
        var output = Task.NewMapOutput(1, 1 << 20, Path.GetTempPath());
        var mapped = new List<long>();

        var pairs = Task.RunMapByLine("doc", Text, 11, output, "document 'doc', chunk 0", n => n == 12, mapped.Add);

        Assert.Equal(4, pairs);
        Assert.Equal([11, 13], mapped);
        Assert.Equal(["a\t2", "b\t1", "d\t1"], Reduced(output));
    }

    [Fact]
    public void A_line_map_throws_on_is_named_and_adds_nothing()
    {
        var output = Task.NewMapOutput(1, 1 << 20, Path.GetTempPath());

        var e = Assert.Throws<UserCodeException>(() => Task.RunMapByLine("doc", Text, 1, output, "document 'doc', chunk 0", _ => false, _ => { }));

        Assert.Equal(2, e.Line);
        Assert.Equal("Map threw on document 'doc', chunk 0, line 2: InvalidOperationException: bad line", e.Message);
        Assert.Equal(["a\t1", "b\t1"], Reduced(output)); // line 1 only: not the 'x' and 'BAD' line 2 yielded
    }

    [Fact]
    public void A_last_line_without_a_line_end_is_a_line()
    {
        var output = Task.NewMapOutput(1, 1 << 20, Path.GetTempPath());
        var mapped = new List<long>();
        Assert.Equal(3, Task.RunMapByLine("doc", "a\nb c", 1, output, "chunk 0", _ => false, mapped.Add));
        Assert.Equal([1, 2], mapped);
    }

    private static List<string> Reduced(IMapOutput output)
    {
        var run = new KeepOpenStream();
        output.WriteRuns(_ => run, "chunk 0");
        run.Position = 0;
        using var text = new MemoryStream();
        Task.RunReduce([run], text, "partition 0");
        return [.. Encoding.UTF8.GetString(text.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    private sealed class KeepOpenStream : MemoryStream
    {
        protected override void Dispose(bool disposing) { }
    }
}
