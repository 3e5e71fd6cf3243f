using System.IO.Hashing;

namespace MapReduce.Submit.Bench;

/// <summary>
/// TeraSort-style input (as gensort's ASCII records): 100-byte lines, a key of 10 printable
/// characters, the row number in 32 hex digits and filler, deterministic from a seed so that every
/// run sorts the same bytes. Made once per size and seed and reused.
/// </summary>
public static class SortInput
{
    public const int RecordBytes = 100;
    public const int KeyBytes = 10;

    public static string Ensure(string benchFolder, long bytes, ulong seed)
    {
        var records = Math.Max(1, bytes / RecordBytes);
        var folder = Path.Combine(benchFolder, $"sort-input-{records * RecordBytes}-{seed}");
        var file = Path.Combine(folder, "records.txt");
        var marker = folder + ".done";
        if (File.Exists(marker) && File.Exists(file)) return folder;
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        using (var output = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            var random = seed;
            var buffer = new byte[RecordBytes * 10_000];
            for (long row = 0; row < records;)
            {
                var n = (int)Math.Min(10_000, records - row);
                for (var i = 0; i < n; i++, row++) Write(buffer.AsSpan(i * RecordBytes, RecordBytes), row, ref random);
                output.Write(buffer, 0, n * RecordBytes);
            }
        }
        File.WriteAllText(marker, "");
        return folder;
    }

    private static void Write(Span<byte> record, long row, ref ulong random)
    {
        var bits = SplitMix64(ref random);
        var more = SplitMix64(ref random);
        for (var k = 0; k < KeyBytes; k++)
        {
            // 95 printable characters, ' ' to '~'.
            record[k] = (byte)(' ' + (int)(bits % 95));
            bits /= 95;
            if (k == 5) bits = more;
        }
        record[10] = (byte)' ';
        Span<byte> hex = stackalloc byte[32];
        ((ulong)row).TryFormat(hex[16..], out _, "X16");
        hex[..16].Fill((byte)'0');
        hex.CopyTo(record[11..]);
        record[43] = (byte)' ';
        for (var i = 44; i < RecordBytes - 1; i++) record[i] = (byte)('A' + (int)((row + i) % 26));
        record[RecordBytes - 1] = (byte)'\n';
    }

    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>
/// A multiset of lines as valsort checks one: how many, and the sum of each line's XxHash64 (so the
/// same lines in any order give the same sum); <see cref="Ordered"/> also says whether the lines
/// came in byte order, and where they first did not.
/// </summary>
public sealed class LineChecksum
{
    private byte[] _previous = [];
    private int _previousLength = -1;

    public long Lines { get; private set; }
    public ulong Sum { get; private set; }
    public bool Ordered { get; private set; } = true;
    public string? FirstDisorder { get; private set; }

    /// <summary>Adds every line of a file; a last line without a newline counts as a line.</summary>
    public void AddFile(string path, bool checkOrder)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.SequentialScan);
        var buffer = new byte[1 << 20];
        var filled = 0;
        while (true)
        {
            var read = file.Read(buffer, filled, buffer.Length - filled);
            filled += read;
            var span = buffer.AsSpan(0, filled);
            var start = 0;
            int newline;
            while ((newline = span[start..].IndexOf((byte)'\n')) >= 0)
            {
                Add(span.Slice(start, newline), checkOrder, path);
                start += newline + 1;
            }
            if (read == 0)
            {
                if (start < filled) Add(span[start..], checkOrder, path); // the last line, without its newline
                return;
            }
            span[start..].CopyTo(buffer); // the line not yet ended
            filled -= start;
            if (filled == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
        }
    }

    private void Add(ReadOnlySpan<byte> line, bool checkOrder, string path)
    {
        Lines++;
        Sum += XxHash64.HashToUInt64(line);
        if (!checkOrder) return;
        if (_previousLength >= 0 && Ordered && _previous.AsSpan(0, _previousLength).SequenceCompareTo(line) > 0)
        {
            Ordered = false;
            FirstDisorder = $"line {Lines} ({Path.GetFileName(path)}) sorts before the line above it";
        }
        if (_previous.Length < line.Length) _previous = new byte[Math.Max(line.Length, 128)];
        line.CopyTo(_previous);
        _previousLength = line.Length;
    }
}
