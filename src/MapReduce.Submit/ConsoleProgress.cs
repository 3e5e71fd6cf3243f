using MapReduce.Submit.Display;
using Spectre.Console;

namespace MapReduce.Submit;

/// <summary>
/// The one place that decides how progress is shown: live bars only when the output is this
/// process's stdout and that is an interactive terminal; otherwise (redirected, CI, tests,
/// --detach's stderr) the plain lines scripts and tests read; nothing with --quiet.
/// </summary>
public static class ConsoleProgress
{
    public static IJobProgress For(TextWriter output, bool quiet = false)
    {
        if (quiet) return new PlainProgress(TextWriter.Null);
        if (!ReferenceEquals(output, Console.Out) || Console.IsOutputRedirected) return new PlainProgress(output);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        // Spectre's own test: without both it would fall back to its own plain rendering, not ours.
        var caps = console.Profile.Capabilities;
        return caps.Interactive && caps.Ansi ? new LiveProgress(console) : new PlainProgress(output);
    }
}
