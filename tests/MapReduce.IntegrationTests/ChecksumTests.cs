using System.Text.RegularExpressions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// A flipped byte in the kvstore's folder, on the standing cluster: in a map run between the map
/// that wrote it and the reduce that reads it (the map runs again and the output is exact), and in
/// an input chunk (the job fails with one line naming the dataset and the chunk).
/// </summary>
[Collection(StandingCluster.Name)]
public sealed class ChecksumTests(RunningCluster cluster) : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private string Blobs => Path.Combine(cluster.Store, "kvstore", "blobs");

    private string[] Seeded(params string[] args) => [.. args, "--cluster", cluster.Api, "--store", cluster.Store];

    private static void FlipByte(string path)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x20;
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>
    /// Deterministic timing: the Map of one document waits for a file this test writes, so the map
    /// phase cannot end before this test has flipped a byte in a run another map published.
    /// </summary>
    [Fact]
    public async Task A_flipped_byte_in_a_map_run_has_its_map_run_again_and_the_output_is_exact()
    {
        var go = Path.Combine(_work, "go");
        var held = Path.GetFileName(Directory.GetFiles(Cli.Samples("data")).Order(StringComparer.Ordinal).First());
        var code = Directory.CreateDirectory(Path.Combine(_work, "code")).FullName;
        await File.WriteAllTextAsync(Path.Combine(code, "task.csx"), $$"""
            using System.Text.RegularExpressions;
            using System.Threading;

            IEnumerable<(string, int)> Map(string docId, string chunk)
            {
                if (docId == "{{held}}")
                    for (var i = 0; i < 1200 && !File.Exists(@"{{go}}"); i++) Thread.Sleep(100);
                foreach (Match m in Regex.Matches(chunk, @"\p{L}+")) yield return (m.Value, 1);
            }

            int Reduce(string key, IEnumerable<int> values) => values.Sum();
            """);
        var before = Directory.Exists(Path.Combine(Blobs, "jobs")) ? Directory.GetDirectories(Path.Combine(Blobs, "jobs")).ToHashSet() : [];
        var output = Path.Combine(_work, "out");
        var submit = Cli.SubmitAsync(Seeded("-d", Cli.Samples("data"), "-c", code, "-o", output, "--reducers", "2"));

        string? run = null;
        await Cli.EventuallyAsync(() =>
        {
            // A job that ended (say, the script did not compile) publishes no run: say why at once.
            if (submit.IsCompleted) Assert.Fail($"the job ended before a map published a run: {submit.Result}");
            if (!Directory.Exists(Path.Combine(Blobs, "jobs"))) return false;
            run = Directory.GetDirectories(Path.Combine(Blobs, "jobs")).Where(j => !before.Contains(j))
                .SelectMany(j => Directory.Exists(Path.Combine(j, "map")) ? Directory.GetFiles(Path.Combine(j, "map"), "p*", SearchOption.AllDirectories) : [])
                .FirstOrDefault();
            return run is not null;
        }, TimeSpan.FromSeconds(180), "no map published a run");
        FlipByte(run!);
        await File.WriteAllTextAsync(go, "");

        var result = await submit;
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), Oracle.ReadParts(output, 2));
        var mapAttempt = Path.GetFileName(Path.GetDirectoryName(run))!;
        var status = await Cli.RunAsync("MapReduce.Submit", ["status", result.SucceededJob, "--store", cluster.Store], TimeSpan.FromSeconds(60));
        Assert.True(status.ExitCode == 0, status.ToString());
        // The map whose run was flipped lost its accepted attempt and ran again; every task has one success (a backup of the held map may add a stopped attempt).
        Assert.Matches(@"(?m)^map +8 tasks, \d+ attempts: (\S+ )*lost=1( \S+)* succeeded=8( \S+)*$", status.Output.ReplaceLineEndings("\n"));
        // The reduce that found it failed, not counted, saying which run and which map runs again.
        Assert.Matches($@"(?m)^  failed r\d{{5}}\.\d+ on \S+: map run {Regex.Escape(Path.GetRelativePath(Blobs, run!))} is corrupt \(checksum mismatch \(xxh3 [0-9a-f]{{16}}, stored [0-9a-f]{{16}}\)\): map task {mapAttempt[..6]} runs again$",
            status.Output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task A_flipped_byte_in_an_input_chunk_fails_the_job_with_one_line_naming_the_dataset_and_the_chunk()
    {
        var input = Directory.CreateDirectory(Path.Combine(_work, "input")).FullName;
        await File.WriteAllTextAsync(Path.Combine(input, "one.txt"), "alpha beta gamma\ndelta epsilon\n");
        var first = await Cli.SubmitAsync(Seeded("-d", input, "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "first")));
        Assert.True(first.ExitCode == 0, first.ToString());
        var dataId = Regex.Match(first.Output, @"--data-id (\S+)").Groups[1].Value;
        var chunk = Directory.GetFiles(Path.Combine(Blobs, "data", dataId)).Single(f => Path.GetFileName(f) != "manifest");
        FlipByte(chunk);

        var second = await Cli.SubmitAsync(Seeded("--data-id", dataId, "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "second")));
        Assert.Equal(1, second.ExitCode);
        var key = $"data/{dataId}/{Path.GetFileName(chunk)}";
        Assert.Matches(
            $@"^error: job job-\S+ failed: input chunk {Regex.Escape(key)} \(document 'one.txt', chunk 0\) of dataset {dataId} is corrupt \(checksum mismatch \(xxh3 [0-9a-f]{{16}}, stored [0-9a-f]{{16}}\)\)\n$",
            second.Error.ReplaceLineEndings("\n"));
        Assert.False(Directory.Exists(Path.Combine(_work, "second")) && Directory.EnumerateFiles(Path.Combine(_work, "second")).Any());
    }
}
