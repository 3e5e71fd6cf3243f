using MapReduce.Node;

namespace MapReduce.Submit.Bench;

/// <summary>How a benchmark's failures end the command: one line on stderr and the CLI's exit code for their kind.</summary>
public static class BenchErrors
{
    /// <summary>Runs <paramref name="run"/>: a bad input is a usage error, a failed job a job failure, a cluster that does not come up a cluster error.</summary>
    public static async Task<int> ExitCodeOfAsync(Func<Task<int>> run, TextWriter error)
    {
        try
        {
            return await run();
        }
        catch (BenchInputException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.UsageError;
        }
        catch (BenchException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.JobFailed;
        }
        catch (Exception e) when (e is LocalClusterException or TimeoutException)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.ClusterError;
        }
    }
}
