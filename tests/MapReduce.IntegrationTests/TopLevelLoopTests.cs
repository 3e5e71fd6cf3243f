namespace MapReduce.IntegrationTests;

/// <summary>
/// A script whose top-level code never returns, on a local cluster of its own (its workers exit and
/// are restarted). A class apart from <see cref="SupervisionTests"/> so that the two run side by side.
/// </summary>
[RunsAbout(60)]
public sealed class TopLevelLoopTests : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    /// <summary>
    /// A task.csx whose top-level code never returns. That code runs inside the first attempt that
    /// loads the script, and belongs to it as Map does: past task-timeout the master stops the
    /// attempt, which cannot end while the code runs, so after cancel-grace its worker exits (code 75)
    /// and is restarted. (The attempt once ended at once, its slot showed free, and the loop went on
    /// burning a core of the worker for good.) The job fails, and the next one runs normally.
    /// </summary>
    [Fact]
    public async Task A_script_whose_top_level_code_never_returns_has_its_worker_exit_after_cancel_grace_and_fails_its_job()
    {
        var cluster = SupervisionTests.ShortTimeoutCluster();
        try
        {
            await cluster.InitializeAsync();
            var code = Directory.CreateDirectory(Path.Combine(_work, "top-level-loop")).FullName;
            await File.WriteAllTextAsync(Path.Combine(code, "task.csx"),
                "while (true) { }\n" +
                "IEnumerable<(string, int)> Map(string docId, string chunk) { yield return (docId, 1); }\n" +
                "int Reduce(string key, IEnumerable<int> values) => values.Sum();\n");
            var result = await Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", code, "-o", Path.Combine(_work, "top-level-out"),
                "--cluster", cluster.Api, "--store", cluster.Store);
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Matches(@"^error: job job-\S+ failed: map task m\d{5} \(document 'pg-[a-z_]+\.txt', chunk 0\) failed 3 times; last error: ", result.Error.Trim());
            Assert.Matches(@"worker-\d exited with code 75", cluster.Output);

            await SupervisionTests.AssertWordCountAsync(cluster, _work);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}
