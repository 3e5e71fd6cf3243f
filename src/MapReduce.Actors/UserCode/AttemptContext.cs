using System.Text;
using MapReduce.Sdk.Hosting;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// What one task attempt's user code leaves behind besides its output: the counters it bumps with
/// <c>Count</c> and the text it writes to the console. Several attempts run at once in a worker
/// process, so the attempt is found through the SDK's AsyncLocal (<see cref="JobRuntime"/>), which
/// <see cref="Run"/> sets around user code and which flows into every task and pool thread the
/// attempt starts; the SDK's Count and TotalOrder reach the attempt through it.
/// </summary>
public sealed class AttemptContext : IJobRuntime
{
    /// <summary>Distinct counter names one attempt may use: the counters travel in one remoting message.</summary>
    public const int MaxUserCounters = 100;
    public const int MaxNameLength = 100;
    /// <summary>Characters of console output one attempt keeps; the rest is dropped with a note.</summary>
    public const int MaxLogChars = 1 << 20;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _user = new(StringComparer.Ordinal);
    private StringBuilder? _log;
    private bool _truncated;

    /// <summary>The job's key ranges, for a script whose Partition calls TotalOrder (set before its Map runs).</summary>
    public KeyRanges? KeyRanges { get; set; }

    /// <summary>The attempt whose code runs on this flow, or null outside attempts.</summary>
    public static AttemptContext? Current => JobRuntime.Current as AttemptContext;

    public AttemptContext() => ConsoleCapture.Install();

    /// <summary>Runs user code of this attempt: what it counts and prints (also from tasks it starts) lands here.</summary>
    public T Run<T>(Func<T> userCode) => JobRuntime.Run(this, userCode);

    /// <summary>Adds <paramref name="by"/> to the user counter <paramref name="name"/>; what the SDK's Count calls.</summary>
    public void Count(string name, long by)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("Count needs a counter name");
        if (name.Length > MaxNameLength) throw new ArgumentException($"counter name '{name[..40]}...' is longer than {MaxNameLength} characters");
        lock (_gate)
        {
            if (_user.TryGetValue(name, out var value)) _user[name] = value + by;
            else if (_user.Count >= MaxUserCounters)
                throw new InvalidOperationException($"Count(\"{name}\"): a task may use at most {MaxUserCounters} distinct counters (a counter names a category, not a key)");
            else _user[name] = by;
        }
    }

    /// <summary>The reducer of <paramref name="key"/> in the job's key ranges; what the SDK's TotalOrder calls (for more than one reducer).</summary>
    public int TotalOrder<TKey>(TKey key, int reducers)
    {
        if (KeyRanges is not KeyRanges<TKey> ranges)
            throw new InvalidOperationException("TotalOrder has no key ranges here: they are sampled for map tasks of a job on the cluster (TotalOrder must be given the key Map yields)");
        if (ranges.Reducers != reducers)
            throw new InvalidOperationException($"TotalOrder's key ranges were picked for {ranges.Reducers} reducers, not {reducers}");
        return ranges.PartitionOf(key);
    }

    /// <summary>The user counters as <c>user.NAME</c>.</summary>
    public Dictionary<string, long> UserCounters()
    {
        lock (_gate) return _user.ToDictionary(kv => TaskCounterNames.User(kv.Key), kv => kv.Value, StringComparer.Ordinal);
    }

    /// <summary>Appends console output, up to <see cref="MaxLogChars"/>.</summary>
    public void Write(ReadOnlySpan<char> text)
    {
        lock (_gate)
        {
            if (_truncated) return;
            _log ??= new StringBuilder();
            var room = MaxLogChars - _log.Length;
            if (text.Length <= room)
            {
                _log.Append(text);
                return;
            }
            _log.Append(text[..room]);
            _log.Append($"\n[log truncated: an attempt keeps the first {MaxLogChars} characters of its console output]\n");
            _truncated = true;
        }
    }

    /// <summary>What the attempt printed, then <paramref name="failure"/> when it failed; empty when there is nothing to keep.</summary>
    public string LogText(string? failure)
    {
        lock (_gate)
        {
            var text = _log?.ToString() ?? "";
            if (failure is null) return text;
            return text.Length == 0 || text.EndsWith('\n') ? text + failure : text + "\n" + failure;
        }
    }
}

/// <summary>The names of the counters the engine keeps per task.</summary>
public static class TaskCounterNames
{
    public const string MapInputBytes = "map.input.bytes";
    public const string MapInputLines = "map.input.lines";
    public const string MapOutputPairs = "map.output.pairs";
    /// <summary>Input lines a map attempt skipped as bad records (a job that skips them; see BadRecords).</summary>
    public const string RecordsSkipped = "records.skipped";
    public const string MapOutputBytes = "map.output.bytes";
    public const string CombineInput = "combine.input";
    public const string CombineOutput = "combine.output";
    public const string SpilledPairs = "spilled.pairs";
    public const string ShuffleBytes = "shuffle.bytes";
    public const string ReduceGroups = "reduce.groups";
    public const string ReduceOutputPairs = "reduce.output.pairs";
    public const string ReduceOutputBytes = "reduce.output.bytes";
    /// <summary>1 for each map task of an incremental job whose output an earlier job left (the task did not run).</summary>
    public const string MapReused = Storage.Catalog.AttemptCounters.MapReused;

    public static string User(string name) => "user." + name;
}

/// <summary>
/// Routes Console.Out and Console.Error to the running attempt's log; outside attempts (the
/// worker's own logging) they go where they went before. Installed once per process.
/// </summary>
public static class ConsoleCapture
{
    private static int _installed;

    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        Console.SetOut(new RoutingWriter(Console.Out));
        Console.SetError(new RoutingWriter(Console.Error));
    }

    private sealed class RoutingWriter(TextWriter original) : TextWriter
    {
        public override Encoding Encoding => original.Encoding;
        public override IFormatProvider FormatProvider => original.FormatProvider;

        [System.Diagnostics.CodeAnalysis.AllowNull]
        public override string NewLine
        {
            get => original.NewLine;
            set => original.NewLine = value;
        }

        public override void Write(char value)
        {
            if (AttemptContext.Current is { } attempt) attempt.Write([value]);
            else original.Write(value);
        }

        public override void Write(char[] buffer, int index, int count) => Write(buffer.AsSpan(index, count));

        public override void Write(ReadOnlySpan<char> buffer)
        {
            if (AttemptContext.Current is { } attempt) attempt.Write(buffer);
            else original.Write(buffer);
        }

        public override void Write(string? value)
        {
            if (AttemptContext.Current is { } attempt) attempt.Write(value);
            else original.Write(value);
        }

        public override void WriteLine(string? value)
        {
            if (AttemptContext.Current is { } attempt)
            {
                attempt.Write(value);
                attempt.Write(CoreNewLine);
            }
            else original.WriteLine(value);
        }

        public override void WriteLine(ReadOnlySpan<char> buffer)
        {
            if (AttemptContext.Current is { } attempt)
            {
                attempt.Write(buffer);
                attempt.Write(CoreNewLine);
            }
            else original.WriteLine(buffer);
        }

        public override void WriteLine()
        {
            if (AttemptContext.Current is { } attempt) attempt.Write(CoreNewLine);
            else original.WriteLine();
        }

        public override void Flush() => original.Flush();
    }
}
