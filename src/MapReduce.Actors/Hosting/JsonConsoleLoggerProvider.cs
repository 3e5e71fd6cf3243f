using Microsoft.Extensions.Logging;

namespace MapReduce.Actors.Hosting;

/// <summary>The hosting's and Kestrel's log (Microsoft.Extensions.Logging) in the same JSON lines as Akka's (<see cref="JsonLogLine"/>).</summary>
public sealed class JsonConsoleLoggerProvider(TextWriter? output = null) : ILoggerProvider
{
    private readonly TextWriter _output = output ?? Console.Out;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _output);

    public void Dispose() { }

    private sealed class Logger(string category, TextWriter output) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var line = JsonLogLine.Format(DateTime.UtcNow, Level(logLevel), category, formatter(state, exception), Environment.CurrentManagedThreadId, exception);
            lock (output) output.WriteLine(line);
        }
    }

    public static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        _ => "error",
    };
}
