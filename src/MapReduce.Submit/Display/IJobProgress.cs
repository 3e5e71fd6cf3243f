using MapReduce.Submit.Client;

namespace MapReduce.Submit.Display;

/// <summary>
/// Shows what <see cref="JobRunner"/> reports. Report may be called from any thread; dispose
/// (idempotent) before printing anything else to the same output, so a live display is stopped first.
/// </summary>
public interface IJobProgress : IAsyncDisposable
{
    void Report(JobEvent e);
}
