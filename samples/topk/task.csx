// Top K: the K most frequent words, a second job over the first job's result. Word count's result
// is stored as the dataset result-JOB (the submit prints it), and a job reads it by that id:
//   ./mapreduce -d samples/data -c samples/wordcount -o out/wordcount
//   ./mapreduce --data-id result-JOB -c samples/topk -o out/topk
// Input lines are `word<TAB>count` (any `key<TAB>number` result will do); output, in part-00000,
// K bare lines `word<TAB>count`, most frequent first, equal counts in ordinal order of the word.
// Every pair has the one key "top" and Combine keeps only the K best of each map task's words, so
// a map task ships at most K pairs; Partition sends the key to reducer 0 (the other parts are empty).

const int K = 20;

IEnumerable<(string, (long Count, string Word)[])> Map(string docId, string chunk)
{
    foreach (var raw in chunk.Split('\n'))
    {
        var line = raw.TrimEnd('\r');
        var tab = line.LastIndexOf('\t');
        if (tab < 0 || !long.TryParse(line.AsSpan(tab + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var count))
        {
            if (line.Length > 0) Count("bad-lines");
            continue;
        }
        yield return ("top", [(count, line[..tab])]);
    }
}

(long Count, string Word)[] Combine(string key, IEnumerable<(long Count, string Word)[]> lists) => Top(lists);

int Partition(string key, int reducers) => 0;

IEnumerable<string> ReduceLines(string key, IEnumerable<(long Count, string Word)[]> lists)
{
    foreach (var (count, word) in Top(lists)) yield return $"{word}\t{count}";
}

// Most frequent first, ties by the word: the same K whatever batches Combine was given.
(long Count, string Word)[] Top(IEnumerable<(long Count, string Word)[]> lists) =>
    lists.SelectMany(l => l).OrderByDescending(p => p.Count).ThenBy(p => p.Word, StringComparer.Ordinal).Take(K).ToArray();
