using MapReduce.Submit;

namespace MapReduce.Tests.Submit;

/// <summary>The CLI's --reducers limit is the cluster's mapreduce.master.max-reducers, said before anything is uploaded or started.</summary>
public sealed class ReducerLimitTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("reducer-limit-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private async Task<(int Code, string Error)> SubmitAsync(int reducers, string? config)
    {
        string? configFile = null;
        if (config is not null) File.WriteAllText(configFile = Path.Combine(_folder, "limit.hocon"), config);
        var options = new SubmitOptions([_folder], null, null, "code-0123456789abcdef", Path.Combine(_folder, "out"), reducers, [], Path.Combine(_folder, "store"), null, null, configFile);
        var error = new StringWriter();
        var code = await Submission.RunAsync(options, TextWriter.Null, error, CancellationToken.None);
        return (code, error.ToString().Trim());
    }

    [Theory]
    [InlineData(10001, null, "error: --reducers must be between 1 and 10000, not 10001")]
    [InlineData(0, null, "error: --reducers must be between 1 and 10000, not 0")]
    [InlineData(9, "mapreduce.master.max-reducers = 8", "error: --reducers must be between 1 and 8, not 9")]
    public async Task Reducers_past_the_masters_limit_are_refused_in_one_line(int reducers, string? config, string line)
    {
        var (code, error) = await SubmitAsync(reducers, config);
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Equal(line, error);
        Assert.False(Directory.Exists(Path.Combine(_folder, "store")), "nothing was started");
    }
}
