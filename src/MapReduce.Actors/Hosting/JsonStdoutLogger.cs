using Akka.Event;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// Akka's minimal logger (akka.stdout-logger-class) in JSON: it prints what Akka logs while no
/// logger actor runs, at the start and in the last steps of a shutdown, as <see cref="JsonLogger"/> would.
/// </summary>
public sealed class JsonStdoutLogger : MinimalLogger
{
    protected override void Log(object message)
    {
        if (message is LogEvent e) JsonLogger.Write(e);
    }
}
