using System.Text.RegularExpressions;
using MapReduce.Sdk;
using static MapReduce.Sdk.JobFunctions;

namespace MyJob;

/// <summary>
/// Word count: how often each word (a run of letters) occurs in the input. Each output line is
/// word&lt;TAB&gt;count. The engine finds Map, Combine and Reduce by name and signature on the class
/// marked [MapReduceJob] (the interfaces are optional; they let the compiler check the signatures).
/// </summary>
[MapReduceJob]
public sealed class WordCount : IMapper<string, int>, ICombiner<string, int>, IReducer<string, int, int>
{
    /// <summary>Called once per chunk: whole lines of the file <paramref name="docId"/>.</summary>
    public IEnumerable<(string Key, int Value)> Map(string docId, string chunk)
    {
        foreach (Match word in Regex.Matches(chunk, @"\p{L}+"))
        {
            if (word.Length > 12) Count("long-words"); // a counter: user.long-words
            yield return (word.Value, 1);
        }
    }

    /// <summary>Runs on each map task's output before it leaves the worker: fewer pairs to shuffle.</summary>
    public int Combine(string word, IEnumerable<int> counts) => counts.Sum();

    /// <summary>Called once per word with all its counts.</summary>
    public int Reduce(string word, IEnumerable<int> counts) => counts.Sum();
}
