using System.Diagnostics;
using System.Text;

namespace MapReduce.IntegrationTests;

/// <summary>
/// One MapReduce.Node process a test starts with arguments of its own (beside a cluster started
/// with <see cref="FailureCluster"/>), its output collected; disposing kills it by PID.
/// </summary>
public sealed class NodeProcessRun : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private NodeProcessRun(Process process) => _process = process;

    public static NodeProcessRun Start(params string[] args)
    {
        // --parent-pid: the node stops by itself should the test process die first.
        var process = new Process { StartInfo = Cli.StartInfo("MapReduce.Node", [.. args, "--parent-pid", Environment.ProcessId.ToString()]) };
        var run = new NodeProcessRun(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (run._output) run._output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (run._error) run._error.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return run;
    }

    public string Output { get { lock (_output) return _output.ToString(); } }

    public string Error { get { lock (_error) return _error.ToString(); } }

    /// <summary>Waits for the process to exit and returns its exit code.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { throw new TimeoutException($"the node did not exit within {timeout}\n--- stdout\n{Output}\n--- stderr\n{Error}"); }
        _process.WaitForExit(); // drains the output
        return _process.ExitCode;
    }

    public override string ToString() => $"--- stdout\n{Output}\n--- stderr\n{Error}";

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
