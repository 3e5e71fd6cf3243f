// Word count: how often each word occurs in the input.
// A word is a maximal run of letters; case is kept as written.

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
