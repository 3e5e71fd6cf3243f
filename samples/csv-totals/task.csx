// The total of the "amount" column per "category" over CSV files with a header row, read with
// --input-format csv: Map gets one row at a time and finds its fields by the header's names.
// Quoted fields may hold commas, doubled quotes and line breaks (samples/csv-totals-data has all
// three); the upload cuts the files into chunks between rows, never inside a quoted field.
// A row whose amount is not a number is skipped and counted (user.bad-amounts).
//   ./mapreduce -d samples/csv-totals-data -c samples/csv-totals --input-format csv -o out/totals
// Each output line: category<TAB>total, e.g. "kitchen, dining<TAB>1234.56".

IEnumerable<(string, decimal)> Map(string docId, CsvRow row)
{
    if (!decimal.TryParse(row["amount"], NumberStyles.Number, CultureInfo.InvariantCulture, out var amount))
    {
        Count("bad-amounts");
        yield break;
    }
    yield return (row["category"], amount);
}

decimal Combine(string category, IEnumerable<decimal> amounts) => amounts.Sum();

decimal Reduce(string category, IEnumerable<decimal> amounts) => amounts.Sum();
