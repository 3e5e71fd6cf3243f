using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// One log event as one line of JSON, the same fields whoever logs it (Akka, the hosting, the
/// node's own lines): time (UTC, ISO 8601), level, source, thread, message, and error (the
/// exception's type, message and stack) when there is one. No field holds a raw line break, so a
/// collector that splits on lines gets whole events.
/// </summary>
public static class JsonLogLine
{
    // Relaxed: paths, quotes in messages and non-ASCII text stay readable; a line is never embedded in HTML.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Format(DateTime time, string level, string source, string message, int? thread = null, Exception? error = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteString("time", DateTime.SpecifyKind(time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : time, DateTimeKind.Utc));
            json.WriteString("level", level);
            json.WriteString("source", source);
            if (thread is { } id) json.WriteNumber("thread", id);
            json.WriteString("message", message);
            if (error is not null) json.WriteString("error", error.ToString());
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
