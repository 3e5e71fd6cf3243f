namespace MapReduce.Sdk;

/// <summary>The column names of a CSV file, from its header row: a name's first column wins.</summary>
public sealed class CsvHeader
{
    private readonly Dictionary<string, int> _columns = new(StringComparer.Ordinal);

    public CsvHeader(IEnumerable<string> names)
    {
        Names = [.. names];
        for (var i = 0; i < Names.Count; i++) _columns.TryAdd(Names[i], i);
    }

    public IReadOnlyList<string> Names { get; }

    /// <summary>The column of <paramref name="name"/>, or -1 when the header has no such column.</summary>
    public int IndexOf(string name) => _columns.TryGetValue(name, out var i) ? i : -1;
}

/// <summary>
/// One row of a CSV input (<c>--input-format csv</c>), as Map gets it: its fields unquoted, found by
/// the header's column names or by position. A row shorter than the header gives "" for the
/// columns it lacks; a name the header does not have throws, naming the header's columns.
/// </summary>
public sealed class CsvRow(CsvHeader header, IReadOnlyList<string> fields)
{
    /// <summary>A row with its own header (for a unit test of Map).</summary>
    public CsvRow(IReadOnlyList<string> names, IReadOnlyList<string> fields) : this(new CsvHeader(names), fields) { }

    public CsvHeader Header => header;

    /// <summary>The row's fields in file order (it may have more or fewer than the header has names).</summary>
    public IReadOnlyList<string> Fields => fields;

    /// <summary>The field in column <paramref name="name"/> of the header.</summary>
    public string this[string name]
    {
        get
        {
            var i = header.IndexOf(name);
            if (i < 0) throw new KeyNotFoundException($"the CSV header has no column '{name}'; it has: {string.Join(", ", header.Names)}");
            return i < fields.Count ? fields[i] : "";
        }
    }

    /// <summary>The field at <paramref name="index"/> (from 0), "" past the row's end.</summary>
    public string this[int index] => index >= 0 && index < fields.Count ? fields[index] : index >= 0 ? "" : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>The field in column <paramref name="name"/>, or false when the header has no such column.</summary>
    public bool TryGet(string name, out string value)
    {
        var i = header.IndexOf(name);
        value = i >= 0 && i < fields.Count ? fields[i] : "";
        return i >= 0;
    }

    public override string ToString() => string.Join(",", fields);
}
