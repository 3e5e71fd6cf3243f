using System.CommandLine.Parsing;
using Akka.Configuration;

namespace MapReduce.Actors.Hosting;

/// <summary>Durations on the command line and in refusal lines are written as in the HOCON files: 30s, 10m, 2h, 500ms.</summary>
public static class Durations
{
    /// <summary>A duration as the HOCON writes it: whole seconds as 2s, anything else in milliseconds (1500ms).</summary>
    public static string Format(TimeSpan t) => t.TotalSeconds >= 1 && t.TotalSeconds % 1 == 0 ? $"{t.TotalSeconds:0}s" : $"{t.TotalMilliseconds:0}ms";

    /// <summary>A duration in a sentence for people: whole seconds as "10 s", anything else as "300 ms".</summary>
    public static string Say(TimeSpan t) => t.TotalSeconds % 1 == 0 ? $"{t.TotalSeconds:0} s" : $"{t.TotalMilliseconds:0} ms";

    /// <summary>The duration at <paramref name="key"/> of the mapreduce section; a node refuses to start, naming the key, when it is not positive.</summary>
    public static TimeSpan Positive(Config mapreduce, string key)
    {
        var value = mapreduce.GetTimeSpan(key);
        return value > TimeSpan.Zero ? value : throw new ConfigurationException($"mapreduce.{key} ({Format(value)}) must be positive");
    }

    public static TimeSpan? TryParse(string text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '.')) return null;
        try
        {
            var value = ConfigurationFactory.ParseString($"d = {text}").GetTimeSpan("d", allowInfinite: false);
            return value < TimeSpan.Zero ? null : value;
        }
        catch (Exception e) when (e is FormatException or ConfigurationException or OverflowException) { return null; }
    }

    /// <summary>A System.CommandLine parser: a clear error for anything that is not a duration.</summary>
    public static TimeSpan? Parse(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (TryParse(text) is { } value) return value;
        result.AddError($"'{text}' is not a duration such as 30s, 10m or 2h");
        return null;
    }
}
