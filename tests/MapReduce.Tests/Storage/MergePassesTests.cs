using CsCheck;
using MapReduce.Storage.Records;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Storage;

/// <summary>
/// A reduce's runs merged in passes (mapreduce.shuffle-merge-factor): no merge opens more than the
/// factor, and the final merge's output is byte-identical to one merge of every run at once.
/// </summary>
public class MergePassesTests
{
    [Theory]
    [InlineData(0, 2, new int[0])]
    [InlineData(5, 5, new int[0])]
    [InlineData(6, 5, new[] { 0, 2 })] // 6 -> 5: one group of two
    [InlineData(7, 2, new[] { 0, 2, 2, 2, 4, 2 })] // 7 -> 4 (the seventh waits)
    [InlineData(12, 5, new[] { 0, 5, 5, 4 })] // 12 -> 5: 4 + 3 fewer
    [InlineData(250, 100, new[] { 0, 100, 100, 52 })] // 250 -> 100
    public void A_pass_merges_consecutive_groups_of_at_most_the_factor_and_no_more_than_it_takes(int runs, int factor, int[] startCountPairs)
    {
        var expected = startCountPairs.Chunk(2).Select(p => (p[0], p[1])).ToList();

        Assert.Equal(expected, MergePasses.Next(runs, factor));
    }

    [Fact]
    public async Task Twenty_thousand_runs_at_factor_100_take_two_passes_to_100()
    {
        var passes = new List<int>();
        var final = await MergePasses.ReduceAsync(Enumerable.Range(0, 20_000).ToList(), 100, (pass, group) =>
        {
            Assert.InRange(group.Count, 2, 100);
            passes.Add(pass);
            return Task.FromResult(-1);
        });

        Assert.Equal(100, final.Count);
        Assert.Equal(200, passes.Count(p => p == 0)); // 200 groups of 100
        Assert.Equal(2, passes.Count(p => p == 1)); // 200 -> 100: 100 + 2
        Assert.Equal(2, passes.Distinct().Count());
    }

    [Fact]
    public void A_factor_below_two_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MergePasses.Next(10, 1));

    private static readonly Gen<List<List<(string Key, int Value)>>> RunPairs =
        Gen.Select(Gen.OneOf("a", "b", "c", "d", "e", "kkkkkkkkkkkkk", "kkkkkkkkkkkkz"), Gen.Int[0, 1000]).List[0, 30].List[1, 40];

    [Fact]
    public void Runs_merged_in_passes_give_the_bytes_of_one_merge_of_them_all()
    {
        Gen.Select(RunPairs, Gen.Int[2, 6], Gen.Bool).Sample((pairsPerRun, factor, compress) =>
        {
            var runs = pairsPerRun.Select(pairs => Runs.Write(pairs.Select(p => new KeyValuePair<string, int>(p.Key, p.Value))).ToArray()).ToList();

            var single = Merge(runs, compress);
            var merges = 0;
            var final = MergePasses.ReduceAsync(runs, factor, (_, group) =>
            {
                Assert.InRange(group.Count, 2, factor);
                merges++;
                return Task.FromResult(Merge(group, compress));
            }).GetAwaiter().GetResult();
            var inPasses = Merge(final, compress);

            Assert.True(final.Count <= factor);
            Assert.Equal(runs.Count > factor, merges > 0);
            Assert.Equal(single, inPasses);
            // And independently: each key once, in byte order, its values in the order of the runs.
            var expected = pairsPerRun.SelectMany(pairs => pairs.OrderBy(p => p.Key, StringComparer.Ordinal))
                .GroupBy(p => p.Key).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => (g.Key, g.Select(p => p.Value).ToList())).ToList();
            var actual = Runs.Merge<string, int>([new MemoryStream(inPasses)]);
            Assert.Equal(expected.Select(e => e.Key), actual.Select(a => a.Key));
            Assert.Equal(expected.Select(e => e.Item2), actual.Select(a => a.Values));
        });
    }

    private static byte[] Merge(IReadOnlyList<byte[]> runs, bool compress)
    {
        var output = new MemoryStream();
        RunMerge<string>.MergeInto([.. runs.Select(r => (Stream)new MemoryStream(r))], output, compress);
        return output.ToArray();
    }
}
