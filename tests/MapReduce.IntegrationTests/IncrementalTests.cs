using System.Text.RegularExpressions;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using MapReduce.Storage.Incremental;

namespace MapReduce.IntegrationTests;

/// <summary>
/// --incremental on the standing cluster: a job over six files, the re-run after one changed (only
/// that file's map task runs, the output is the answer for the new text), the re-run with nothing
/// changed (the earlier job's result, byte for byte), a misuse refused in one line, and deleting the
/// input frees the map outputs kept for re-runs.
/// </summary>
[Collection(StandingCluster.Name)]
public sealed class IncrementalTests(RunningCluster cluster) : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private string[] Seeded(params string[] args) => [.. args, "--cluster", cluster.Api, "--store", cluster.Store];

    private string Blobs => Path.Combine(cluster.Store, "kvstore", "blobs");

    private static string DataIdOf(CliResult job) => Regex.Match(job.Output, @"--data-id (data-\S+)").Groups[1].Value;

    [Fact]
    public async Task A_re_run_after_one_file_changed_runs_only_its_map_task_and_one_with_nothing_changed_returns_the_earlier_result()
    {
        var input = Directory.CreateDirectory(Path.Combine(_work, "books")).FullName;
        foreach (var book in Directory.GetFiles(Cli.Samples("data")).Order(StringComparer.Ordinal).Take(6))
            File.Copy(book, Path.Combine(input, Path.GetFileName(book)));
        var changed = Directory.GetFiles(input).Order(StringComparer.Ordinal).ElementAt(3);
        string[] Run(string output) => Seeded("-d", input, "-c", Cli.Samples("invertedindex"), "-o", Path.Combine(_work, output), "--reducers", "2", "--incremental");
        var catalog = new CatalogStore(SqlLocation.SqliteFile(Path.Combine(cluster.Store, "catalog.db")));

        var first = await Cli.SubmitAsync(Run("first"));
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(Oracle.InvertedIndex(input), Oracle.ReadParts(Path.Combine(_work, "first"), 2));
        var job1 = first.SucceededJob;
        // One map task per file (attempts may be more: a backup of a straggler).
        Assert.Equal(6, catalog.GetExecutions(job1).Where(e => e.ExecType == ExecutionType.Map).Select(e => e.TaskId).Distinct().Count());

        // A word no book has, in one file: the re-run must see it, and only that file's map task runs.
        await File.AppendAllTextAsync(changed, "zyxwvut incremental\n");
        var second = await Cli.SubmitAsync(Run("second"));
        Assert.True(second.ExitCode == 0, second.ToString());
        var expected = Oracle.InvertedIndex(input);
        Assert.Contains($"zyxwvut\t1 {Path.GetFileName(changed)}", expected);
        Assert.Equal(expected, Oracle.ReadParts(Path.Combine(_work, "second"), 2));
        var job2 = second.SucceededJob;
        Assert.NotEqual(job1, job2);
        var ran = catalog.GetExecutions(job2).Where(e => e.ExecType == ExecutionType.Map).ToList();
        var chunks = catalog.GetChunks(DataIdOf(second)).ToDictionary(c => c.ChunkId, c => c.DocId);
        Assert.Equal([Path.GetFileName(changed)], ran.Select(e => chunks[e.ChunkId!]).Distinct());
        Assert.Single(ran.Select(e => e.TaskId).Distinct());
        Assert.Equal(5, catalog.GetCounters(job2).Totals[MapReduce.Actors.UserCode.TaskCounterNames.MapReused]);

        // Nothing changed: the answer is job 2's result, at once, the same bytes.
        var third = await Cli.SubmitAsync(Run("third"));
        Assert.True(third.ExitCode == 0, third.ToString());
        Assert.Contains($"nothing changed since job {job2} (--incremental): its result is returned as it is", third.Output);
        Assert.Equal(job2, third.SucceededJob);
        for (var p = 0; p < 2; p++)
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_work, "second", $"part-{p:D5}")), await File.ReadAllBytesAsync(Path.Combine(_work, "third", $"part-{p:D5}")));

        // Misuse: a job's result is no input to re-run incrementally.
        var refused = await Cli.SubmitAsync(Seeded("--data-id", $"result-{job2}", "-c", Cli.Samples("invertedindex"), "-o", Path.Combine(_work, "refused"), "--incremental"));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Equal($"error: dataset 'result-{job2}' is a job's result: --incremental applies to uploaded input (--data FOLDER --incremental)", refused.Error.Trim());

        // The map outputs kept for re-runs lie in job 1's and job 2's folders; deleting the latest input frees them.
        Assert.True(Directory.Exists(Path.Combine(Blobs, "jobs", job1, "map")));
        Assert.True(Directory.Exists(Path.Combine(Blobs, "jobs", job2, "map")));
        var lineage = ContentIds.Lineage(input, Regex.Match(second.Output, @"--code-id (\S+)").Groups[1].Value, 2);
        Assert.Equal(job2, catalog.FindIncrementalRun(lineage)?.JobId);
        var deleted = await Cli.RunAsync("MapReduce.Submit", Seeded("delete", DataIdOf(third), DataIdOf(second), DataIdOf(first)), TimeSpan.FromMinutes(1));
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Null(catalog.FindIncrementalRun(lineage));
        Assert.False(Directory.Exists(Path.Combine(Blobs, "jobs", job1, "map")), "job 1's map outputs were left behind");
        Assert.False(Directory.Exists(Path.Combine(Blobs, "jobs", job2, "map")), "job 2's map outputs were left behind");
    }
}
