using MapReduce.Testing;

namespace MyJob.Tests;

public class WordCountTests
{
    [Fact]
    public void Map_yields_each_word_with_a_one()
    {
        var pairs = new WordCount().Map("a.txt", "the cat, the hat").ToList();
        Assert.Equal([("the", 1), ("cat", 1), ("the", 1), ("hat", 1)], pairs);
    }

    [Fact]
    public void The_job_counts_words_through_the_engine()
    {
        // Map, Combine, the shuffle into 2 partitions and Reduce, in this process, as a cluster runs them.
        var result = JobHarness.Run<WordCount>(
            [("a.txt", "the cat\nthe hat\n"), ("b/c.txt", "a cat, extraordinarily")],
            new HarnessOptions { Reducers = 2 });

        Assert.Equal(2, result.Parts.Count);
        Assert.Equal(["a\t1", "cat\t2", "extraordinarily\t1", "hat\t1", "the\t2"], result.AllLines.Order(StringComparer.Ordinal));
        Assert.Equal(7, result.Counter("map.output.pairs"));
        Assert.Equal(1, result.Counter("user.long-words"));
    }
}
