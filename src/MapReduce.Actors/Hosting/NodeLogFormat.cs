using Akka.Configuration;

namespace MapReduce.Actors.Hosting;

/// <summary>What a node writes on stdout (mapreduce.log-format): lines for people, or one JSON object per line for a log pipeline.</summary>
public enum NodeLogFormat
{
    Text,
    Json,
}

public static class NodeLogFormats
{
    public static NodeLogFormat Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "text" => NodeLogFormat.Text,
        "json" => NodeLogFormat.Json,
        _ => throw new ConfigurationException($"mapreduce.log-format must be text or json, not '{value}'"),
    };
}
