using System.Globalization;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;
using MapReduce.Actors.UserCode;
using MapReduce.Submit.Client;

namespace MapReduce.Tests.Submit;

/// <summary>
/// Result parts rewritten as JSON lines and CSV, read back by System.Text.Json and CsvHelper: the
/// pairs are those the reducers wrote (escapes undone), whatever their keys and values hold.
/// </summary>
public sealed class ResultFormatTests : IDisposable
{
    private readonly string _folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"result-format-{Guid.NewGuid():N}")).FullName;

    private static readonly (string Key, string Value)[] Pairs =
    [
        ("plain", "42"), ("comma, and \"quotes\"", "-3.25"), ("tab\there", "line\nbreak"), ("back\\slash", "007"),
        (" edge ", "1e3"), ("", "text with ,"), ("crlf\r\nkey", ""), ("émile", "1 2"),
    ];

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Tsv()
    {
        var path = Path.Combine(_folder, "part-00000");
        File.WriteAllText(path, string.Concat(Pairs.Select(p => OutputFormat.Line(p.Key, p.Value) + "\n")));
        return path;
    }

    [Fact]
    public void Json_lines_hold_each_pair_with_numbers_as_numbers()
    {
        var target = Path.Combine(_folder, "part-00000.jsonl");
        ResultFormats.Convert(Tsv(), target, ResultFormat.JsonLines);
        var lines = File.ReadAllLines(target);
        Assert.Equal(Pairs.Length, lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            Assert.Equal(Pairs[i].Key, json.RootElement.GetProperty("key").GetString());
            var value = json.RootElement.GetProperty("value");
            var number = Pairs[i].Value is "42" or "-3.25" or "1e3";
            Assert.Equal(number ? JsonValueKind.Number : JsonValueKind.String, value.ValueKind);
            if (number) Assert.Equal(decimal.Parse(Pairs[i].Value, NumberStyles.Float, CultureInfo.InvariantCulture), value.GetDecimal());
            else Assert.Equal(Pairs[i].Value, value.GetString());
        }
    }

    [Fact]
    public void Csv_has_a_key_value_header_and_a_row_per_pair_as_CsvHelper_reads_it()
    {
        var target = Path.Combine(_folder, "part-00000.csv");
        ResultFormats.Convert(Tsv(), target, ResultFormat.Csv);
        using var reader = new CsvReader(new StreamReader(target), new CsvConfiguration(CultureInfo.InvariantCulture) { TrimOptions = TrimOptions.None });
        Assert.True(reader.Read());
        reader.ReadHeader();
        Assert.Equal(["key", "value"], reader.HeaderRecord!);
        var rows = new List<(string, string)>();
        while (reader.Read()) rows.Add((reader.GetField("key")!, reader.GetField("value")!));
        Assert.Equal(Pairs, rows);
    }

    [Theory]
    [InlineData("tsv", ResultFormat.Tsv)]
    [InlineData(null, ResultFormat.Tsv)]
    [InlineData("JSONL", ResultFormat.JsonLines)]
    [InlineData("csv", ResultFormat.Csv)]
    public void Names_parse(string? name, ResultFormat format) => Assert.Equal(format, ResultFormats.Parse(name));

    [Fact]
    public void An_unknown_name_says_which_there_are() =>
        Assert.Equal("--output-format must be one of tsv, jsonl, csv, not 'xml'",
            Assert.Throws<MapReduce.Storage.Chunking.InputException>(() => ResultFormats.Parse("xml")).Message);
}
