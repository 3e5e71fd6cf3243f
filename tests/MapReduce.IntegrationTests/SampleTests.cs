namespace MapReduce.IntegrationTests;

/// <summary>`--sample N` on the standing cluster: the job reads the first N lines of each file, and says so.</summary>
[Collection(StandingCluster.Name)]
public sealed class SampleTests(RunningCluster cluster) : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Word_count_of_the_first_40_lines_of_each_sample_book()
    {
        const int lines = 40;
        var books = Directory.GetFiles(Cli.Samples("data")).Order(StringComparer.Ordinal).ToList();
        var output = Path.Combine(_work, "out");

        var job = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--reducers", "2",
            "--sample", $"{lines}", "--cluster", cluster.Api, "--store", cluster.Store);

        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Contains($"sample: the first {lines} lines of each of {books.Count} files", job.Output);
        var expected = Oracle.WordCount(books.Select(b => (Path.GetFileName(b), string.Join("\n", File.ReadLines(b).Take(lines)))));
        Assert.Equal(expected, Oracle.ReadParts(output, 2));
        Assert.NotEqual(Oracle.WordCount(Cli.Samples("data")), expected); // a sample that were the whole input would prove nothing
    }
}
