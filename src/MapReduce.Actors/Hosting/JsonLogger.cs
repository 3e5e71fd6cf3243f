using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// Akka's log as JSON lines on stdout (mapreduce.log-format = json), in place of Akka's text
/// logger: named in akka.loggers, started by the event stream, one actor per system.
/// </summary>
public sealed class JsonLogger : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>Where lines go; stdout unless a test sets it before the system starts.</summary>
    public static TextWriter Output { get; set; } = Console.Out;

    /// <summary>
    /// The settings that select it, and <see cref="JsonStdoutLogger"/> for what Akka logs before its
    /// loggers start and after they stop (the last lines of a shutdown).
    /// </summary>
    public static readonly string Hocon =
        $"akka.loggers = [\"{typeof(JsonLogger).FullName}, {typeof(JsonLogger).Assembly.GetName().Name}\"]\n" +
        $"akka.stdout-logger-class = \"{typeof(JsonStdoutLogger).FullName}, {typeof(JsonStdoutLogger).Assembly.GetName().Name}\"";

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent e:
                Write(e);
                return true;
            default:
                return false;
        }
    }

    public static void Write(LogEvent e)
    {
        var line = JsonLogLine.Format(e.Timestamp, Level(e.LogLevel()), e.LogSource ?? "", e.Message?.ToString() ?? "", e.Thread?.ManagedThreadId, e.Cause);
        lock (Output) Output.WriteLine(line);
    }

    public static string Level(Akka.Event.LogLevel level) => level switch
    {
        Akka.Event.LogLevel.DebugLevel => "debug",
        Akka.Event.LogLevel.InfoLevel => "info",
        Akka.Event.LogLevel.WarningLevel => "warning",
        _ => "error",
    };
}
