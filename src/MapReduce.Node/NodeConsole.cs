using System.Text.Json;
using MapReduce.Actors.Hosting;

namespace MapReduce.Node;

/// <summary>
/// The node's own stdout and stderr lines (the ready line, its addresses, one-line errors) in the
/// node's log format: as they are, or as <see cref="JsonLogLine"/>s beside Akka's.
/// </summary>
public static class NodeConsole
{
    public static NodeLogFormat Format { get; set; } = NodeLogFormat.Text;

    public static void Info(string text) => Console.WriteLine(Line("info", text));

    public static void Error(string text) => Console.Error.WriteLine(Line("error", text));

    private static string Line(string level, string text) =>
        Format == NodeLogFormat.Json ? JsonLogLine.Format(DateTime.UtcNow, level, "node", text, Environment.CurrentManagedThreadId) : text;

    /// <summary>
    /// The text of a node's ready line (<see cref="NodeHost.ReadyLine"/> ...) in a line of its output,
    /// written as text or as JSON; null for any other line.
    /// </summary>
    public static string? ReadyText(string line)
    {
        if (line.StartsWith(NodeHost.ReadyLine, StringComparison.Ordinal)) return line;
        if (!line.StartsWith('{') || !line.Contains(NodeHost.ReadyLine, StringComparison.Ordinal)) return null;
        try
        {
            using var json = JsonDocument.Parse(line);
            return json.RootElement.TryGetProperty("message", out var message) && message.GetString() is { } text
                && text.StartsWith(NodeHost.ReadyLine, StringComparison.Ordinal) ? text : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
