// Word count without a combiner, as the MapReduce lab writes it: Map emits (word, 1) for every
// word and Reduce sums, so every pair goes through the shuffle (40 million for 200 MB of books).
// A word is a maximal run of letters; case is kept as written. samples/wordcount is the same job
// with Combine, which sums each map task's pairs before they leave the worker.

IEnumerable<(string, int)> Map(string docId, string chunk)
{
    var start = -1;
    for (var i = 0; i <= chunk.Length; i++)
    {
        var isLetter = i < chunk.Length && char.IsLetter(chunk[i]);
        if (isLetter && start < 0) start = i;
        else if (!isLetter && start >= 0)
        {
            yield return (chunk.Substring(start, i - start), 1);
            start = -1;
        }
    }
}

int Reduce(string word, IEnumerable<int> counts) => counts.Sum();
