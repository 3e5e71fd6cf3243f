using System.Globalization;
using System.Text.RegularExpressions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// Jobs over a previous job's result by its dataset id, on the standing cluster: word count then
/// the topk sample, and samples/pagerank/run.sh for three iterations; each against an answer
/// computed here from the input.
/// </summary>
[Collection(StandingCluster.Name)]
public sealed class ChainedJobsTests(RunningCluster cluster) : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private string[] Seeded(params string[] args) => [.. args, "--cluster", cluster.Api, "--store", cluster.Store];

    [Fact]
    public async Task Top_k_reads_word_counts_result_by_the_dataset_id_the_submit_prints()
    {
        var counts = await Cli.SubmitAsync(Seeded("-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "wc"), "-r", "3"));
        Assert.True(counts.ExitCode == 0, counts.ToString());
        var result = Regex.Match(counts.Output, @"a job over this result: --data-id (\S+)").Groups[1].Value;
        Assert.Equal($"result-{counts.SucceededJob}", result);

        var output = Path.Combine(_work, "top");
        var top = await Cli.SubmitAsync(Seeded("--data-id", result, "-c", Cli.Samples("topk"), "-o", output, "-r", "2"));
        Assert.True(top.ExitCode == 0, top.ToString());
        var expected = Oracle.WordCount(Cli.Samples("data")).Select(l => l.Split('\t'))
            .OrderByDescending(f => long.Parse(f[1], CultureInfo.InvariantCulture)).ThenBy(f => f[0], StringComparer.Ordinal)
            .Take(20).Select(f => $"{f[0]}\t{f[1]}");
        Assert.Equal(expected, await File.ReadAllLinesAsync(Path.Combine(output, "part-00000")));
        Assert.Empty(await File.ReadAllTextAsync(Path.Combine(output, "part-00001")));
    }

    [Fact]
    public async Task The_pagerank_script_chains_three_jobs_and_gives_the_ranks_computed_in_memory()
    {
        var graph = File.ReadAllLines(Cli.Samples("pagerank-data/graph.txt")).Select(l => l.Split('\t'))
            .ToDictionary(f => f[0], f => f[1].Split(',', StringSplitOptions.RemoveEmptyEntries));
        var rank = graph.Keys.ToDictionary(p => p, _ => 1.0);
        for (var i = 0; i < 3; i++)
        {
            var next = graph.Keys.ToDictionary(p => p, _ => 0.0);
            foreach (var (page, links) in graph)
                foreach (var target in links) next[target] += rank[page] / links.Length;
            rank = next.ToDictionary(kv => kv.Key, kv => 0.15 + 0.85 * kv.Value);
        }

        var output = Path.Combine(_work, "pagerank");
        var start = new System.Diagnostics.ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _work,
        };
        foreach (var arg in Seeded(Cli.Samples("pagerank/run.sh"), "3", output, "-r", "2")) start.ArgumentList.Add(arg);
        // The CLI of this build, not ./mapreduce (which would build the repository first).
        start.Environment["MAPREDUCE"] = $"dotnet {Path.Combine(AppContext.BaseDirectory, "MapReduce.Submit.dll")}";
        var run = await Cli.RunAsync(start, TimeSpan.FromSeconds(60));
        Assert.True(run.ExitCode == 0, run.ToString());
        var iterations = Regex.Matches(run.Output, @"^iteration (\d): (result-job-\S+), parts in ", RegexOptions.Multiline);
        Assert.Equal(["1", "2", "3"], iterations.Select(m => m.Groups[1].Value));
        Assert.Equal(3, iterations.Select(m => m.Groups[2].Value).Distinct().Count());

        var lines = Oracle.ReadParts(Path.Combine(output, "iteration-3"), 2).Select(l => l.Split('\t')).ToList();
        Assert.Equal(graph.Keys.Order(StringComparer.Ordinal), lines.Select(f => f[0]));
        foreach (var f in lines)
        {
            Assert.True(Math.Abs(rank[f[0]] - double.Parse(f[1], CultureInfo.InvariantCulture)) < 1e-12, $"{f[0]}: {f[1]}, expected {rank[f[0]]:R}");
            Assert.Equal(string.Join(',', graph[f[0]]), f[2]);
        }
        var highest = rank.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).First().Key;
        Assert.Contains($"highest ranks after 3 iterations:\n{highest}\t", run.Output.ReplaceLineEndings("\n"));
    }
}
