// Sort: the input's lines in order, as `LC_ALL=C sort` writes them, spread over as many parts as
// reducers: part-00000, part-00001, ... concatenated are the whole input sorted.
// - Map yields each line (without its '\n') as its key.
// - TotalOrder sends each reducer one range of keys, cut at quantiles of keys sampled from the
//   input before the maps run, so every key of part-00001 comes after every key of part-00000.
// - ReduceLines writes each line as it came, once per copy, as a bare line (not key<TAB>value).
// Lines compare as .NET's ordinal order does (UTF-16 code units): byte order, as C sort's, for
// ASCII and nearly all text; only characters past U+FFFF against U+E000..U+FFFF differ.

IEnumerable<(string, byte)> Map(string docId, string chunk)
{
    for (var start = 0; start < chunk.Length;)
    {
        var end = chunk.IndexOf('\n', start);
        if (end < 0) end = chunk.Length;
        yield return (chunk.Substring(start, end - start), 0);
        start = end + 1;
    }
}

int Partition(string line, int reducers) => TotalOrder(line, reducers);

IEnumerable<string> ReduceLines(string line, IEnumerable<byte> copies)
{
    foreach (var _ in copies) yield return line;
}
