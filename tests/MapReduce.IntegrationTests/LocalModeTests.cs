namespace MapReduce.IntegrationTests;

/// <summary>The README's demo: MapReduce.Submit with no --seed starts its own local cluster of processes, runs the job and stops them.</summary>
public sealed class LocalModeTests : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Word_count_on_the_sample_books_matches_an_independent_count_and_leaves_no_process()
    {
        var store = Path.Combine(_work, "store");
        var output = Path.Combine(_work, "out");
        Directory.CreateDirectory(output);
        await File.WriteAllTextAsync(Path.Combine(output, "part-00009"), "stale part of an older run");

        var result = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--store", store, "--workers", "2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"output: {output} (4 parts)", result.Output);
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 4));
        Assert.Empty(Cli.NodeProcessesUsing(store));
        Assert.True(File.Exists(Path.Combine(store, "catalog.db")) && File.Exists(Path.Combine(store, "journal.db")));
    }

    [Fact]
    public async Task Map_output_past_the_buffer_limit_spills_to_disk_and_the_output_is_still_exact()
    {
        var store = Path.Combine(_work, "store");
        var output = Path.Combine(_work, "out");
        var config = Path.Combine(_work, "small-buffer.hocon");
        // A few hundred distinct words per buffer: every map task of the books spills many times.
        await File.WriteAllTextAsync(config, "mapreduce.map-buffer-entries = 300");

        var result = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", output, "--store", store, "--workers", "2", "--config", config);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 4));
        var mapLines = Directory.GetFiles(Path.Combine(store, "logs"), "worker-*.log")
            .SelectMany(File.ReadAllLines).Where(l => l.Contains(" m0000")).ToList();
        Assert.Equal(8, mapLines.Count);
        Assert.All(mapLines, l => Assert.Matches(@"map \d+ ms, store \d+ ms \(\d+ spills to disk\)", l));
        Assert.Empty(Cli.NodeProcessesUsing(store));
    }
}
