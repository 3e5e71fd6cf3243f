using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using MapReduce.Sdk;
using static MapReduce.Sdk.JobFunctions;

namespace Sales;

/// <summary>
/// Orders and revenue per region over CSV files with the header
/// <c>order_id,date,region,product,units,unit_price</c>: each output line is
/// <c>region&lt;TAB&gt;orders revenue</c>, the revenue with two decimals. CsvHelper reads the rows,
/// quoted fields with commas, quotes and line breaks included. A row whose units or price is not
/// a number is skipped and counted (<c>user.bad-rows</c>).
/// </summary>
/// <remarks>
/// A chunk is whole lines of one file, and a file's first chunk starts with its header, so Map
/// skips a row that is the header. A quoted field with a line break in it stays whole in files up
/// to the block size (8 MiB), which are one chunk.
/// </remarks>
[MapReduceJob]
public sealed class SalesByRegion
{
    private static readonly CsvConfiguration Csv = new(CultureInfo.InvariantCulture) { HasHeaderRecord = false };

    public IEnumerable<(string Region, (long Orders, long Cents) Sale)> Map(string docId, string chunk)
    {
        using var reader = new CsvReader(new StringReader(chunk), Csv);
        while (reader.Read())
        {
            if (reader.GetField(0) == "order_id") continue; // the header
            if (!long.TryParse(reader.GetField(4), NumberStyles.Integer, CultureInfo.InvariantCulture, out var units)
                || !decimal.TryParse(reader.GetField(5), NumberStyles.Number, CultureInfo.InvariantCulture, out var price))
            {
                Count("bad-rows");
                continue;
            }
            yield return (reader.GetField(2)!, (1, (long)Math.Round(units * price * 100, MidpointRounding.AwayFromZero)));
        }
    }

    public (long Orders, long Cents) Combine(string region, IEnumerable<(long Orders, long Cents)> sales) => Sum(sales);

    public string Reduce(string region, IEnumerable<(long Orders, long Cents)> sales)
    {
        var (orders, cents) = Sum(sales);
        return string.Create(CultureInfo.InvariantCulture, $"{orders} {cents / 100m:0.00}");
    }

    private static (long Orders, long Cents) Sum(IEnumerable<(long Orders, long Cents)> sales)
    {
        long orders = 0, cents = 0;
        foreach (var (o, c) in sales)
        {
            orders += o;
            cents += c;
        }
        return (orders, cents);
    }
}
