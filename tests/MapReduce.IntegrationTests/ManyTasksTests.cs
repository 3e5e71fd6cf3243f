using System.Text.RegularExpressions;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// A local cluster whose split-size packs exactly two of the tests' small files into a map task
/// (each chunk counts MapSplits.OpenCost = 1 MiB plus its bytes: two of at most 76 KiB fit
/// 2200 KiB, three never do), and whose jobs may have at most 3,000 map tasks.
/// </summary>
public sealed class ManyTasksCluster() : RunningCluster("""
    mapreduce.split-size = 2200KiB
    mapreduce.master.max-map-tasks = 3000
    """)
{
    public const long SplitSize = 2200 << 10;
    public const int MaxMapTasks = 3000;
}

/// <summary>
/// Jobs with thousands of map tasks: every message that names them (a reduce task's map attempts,
/// the job status) stays within one remoting frame, and a job beyond the limit is refused before
/// it runs.
/// </summary>
[RunsAbout(56)]
public sealed class ManyTasksTests(ManyTasksCluster cluster, ITestOutputHelper log) : IClassFixture<ManyTasksCluster>, IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private string[] Seeded(params string[] args) => [.. args, "--cluster", cluster.Api, "--store", cluster.Store];

    /// <summary>Writes the files and checks that the cluster's split-size packs exactly two of them into each map task.</summary>
    private async Task<string> SmallFilesTwoToATaskAsync(string name, int files)
    {
        var input = await SmallFiles.WriteAsync(Path.Combine(_work, name), files);
        var largest = Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories).Max(f => new FileInfo(f).Length);
        Assert.True(2 * (MapSplits.OpenCost + largest) <= ManyTasksCluster.SplitSize, $"two files of up to {largest} bytes share a task");
        Assert.True(3 * MapSplits.OpenCost > ManyTasksCluster.SplitSize, "three files never do");
        return input;
    }

    [Fact]
    public async Task Five_thousand_files_in_over_two_thousand_map_tasks_give_the_exact_answer()
    {
        const int files = 5000;
        var input = await SmallFilesTwoToATaskAsync("many", files);
        var expected = Oracle.WordCount(input);
        Assert.Equal(Oracle.WordCount(Cli.Samples("data")), expected);

        var output = Path.Combine(_work, "count");
        var job = await Cli.SubmitAsync(Seeded("-d", input, "-c", Cli.Samples("wordcount"), "-o", output, "--reducers", "4"));
        log.WriteLine(job.ToString());
        Assert.True(job.ExitCode == 0, job.ToString());
        var submitted = Regex.Match(job.Output, @"submitted job (job-\S+): (\d+) map tasks, 4 reduce tasks");
        Assert.True(submitted.Success, job.Output);
        var (jobId, mapTasks) = (submitted.Groups[1].Value, int.Parse(submitted.Groups[2].Value));
        log.WriteLine($"{files} files in {mapTasks} map tasks: {Regex.Match(job.Output, @"run and download took .*").Value}");
        Assert.True(mapTasks >= 2000, $"{mapTasks} map tasks");
        Assert.Equal(files / 2, mapTasks);
        Assert.Equal(expected, Oracle.ReadParts(output, 4));

        var executions = new CatalogStore(SqlLocation.SqliteFile(Path.Combine(cluster.Store, "catalog.db"))).GetExecutions(jobId);
        var maps = executions.Where(e => e.ExecType == ExecutionType.Map).GroupBy(e => e.TaskId).ToList();
        log.WriteLine($"catalog: {maps.Sum(t => t.Count())} map attempts for {maps.Count} map tasks");
        Assert.Equal(mapTasks, maps.Count);
        var notOnce = maps.Where(t => t.Count(e => e.Status == ExecutionStatus.Success) != 1).Select(t => t.Key).ToList();
        Assert.True(notOnce.Count == 0, $"map tasks without exactly one successful attempt: {string.Join(", ", notOnce.Take(20))}");
    }

    [Fact]
    public async Task A_job_over_the_map_task_limit_is_refused_up_front_with_the_reason()
    {
        const int files = 6200; // 3,100 map tasks, two files each
        var input = await SmallFilesTwoToATaskAsync("too-many", files);

        var output = Path.Combine(_work, "count");
        var job = await Cli.SubmitAsync(Seeded("-d", input, "-c", Cli.Samples("wordcount"), "-o", output, "--reducers", "4"));
        log.WriteLine(job.ToString());
        Assert.Equal(1, job.ExitCode);
        var dataId = Regex.Match(job.Output, $@"uploaded {files} files, .* as (data-\S+) ").Groups[1].Value;
        Assert.StartsWith("data-", dataId);
        Assert.Equal($"error: dataset '{dataId}' makes {files / 2} map tasks, more than the {ManyTasksCluster.MaxMapTasks} a job may have " +
            "(mapreduce.master.max-map-tasks: each reduce task is told which run of every map to read, in one message); " +
            "raise mapreduce.split-size so that small files share map tasks, or --block-size for fewer, larger chunks", job.Error.Trim());
        Assert.DoesNotContain("submitted job", job.Output);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output, "part-*").Any());
    }
}
