using System.Globalization;

namespace MapReduce.Submit.Bench;

/// <summary>Sizes as a user types them: 200MB, 1GB, 512KB or plain bytes (decimal units, as disks count).</summary>
public static class ByteSize
{
    public static long? Parse(string text)
    {
        var t = text.Trim().ToUpperInvariant();
        var (digits, unit) = t.EndsWith("GB") ? (t[..^2], 1_000_000_000L)
            : t.EndsWith("MB") ? (t[..^2], 1_000_000L)
            : t.EndsWith("KB") ? (t[..^2], 1_000L)
            : t.EndsWith('B') ? (t[..^1], 1L)
            : (t, 1L);
        return double.TryParse(digits.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0 ? (long)(n * unit) : null;
    }
}
