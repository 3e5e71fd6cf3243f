using System.Globalization;
using System.Text;
using MapReduce.Actors.Metrics;

namespace MapReduce.Tests.Metrics;

/// <summary>
/// The tests that read this process's metrics: they share one registry, so they run alone, after
/// the tests that run in parallel (whose masters, workers and kvstores would move the same series).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMetrics
{
    public const string Name = "process metrics";
}

/// <summary>This process's metrics as /metrics writes them, and the series they hold.</summary>
public static class MetricsScrape
{
    public static async Task<string> TextAsync()
    {
        using var stream = new MemoryStream();
        await NodeMetrics.Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static async Task<Dictionary<string, double>> SeriesAsync() => Parse(await TextAsync());

    /// <summary>Prometheus' text format: <c>name{labels} value</c> per line; comments skipped.</summary>
    public static Dictionary<string, double> Parse(string text) =>
        text.Split('\n').Where(line => line.Length > 0 && line[0] != '#')
            .ToDictionary(line => line[..line.LastIndexOf(' ')], line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture), StringComparer.Ordinal);

    /// <summary>How much each series changed from <paramref name="before"/> (absent: 0).</summary>
    public static double Delta(Dictionary<string, double> before, Dictionary<string, double> after, string series) =>
        after.GetValueOrDefault(series) - before.GetValueOrDefault(series);
}
