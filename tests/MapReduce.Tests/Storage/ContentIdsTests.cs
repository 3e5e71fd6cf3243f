using System.Text;
using MapReduce.Storage.Incremental;
using MapReduce.Tests.Support;
using static MapReduce.Storage.Incremental.ContentIds;

namespace MapReduce.Tests.Storage;

/// <summary>The content ids of incremental re-runs: equal inputs give equal ids, and each thing a map task's output depends on changes its id.</summary>
public sealed class ContentIdsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static readonly MapChunkContent A = new("a.txt", false, OfBytes("alpha\n"u8));
    private static readonly MapChunkContent B = new("b.txt", false, OfBytes("beta\n"u8));

    [Fact]
    public void A_chunk_id_is_the_xxhash128_of_the_file_range_and_differs_for_other_bytes()
    {
        var file = _folder.File("f.txt");
        File.WriteAllText(file, "head\nalpha\ntail\n");
        var id = OfFileRange(file, 5, 6);
        Assert.Equal(OfBytes("alpha\n"u8), id);
        Assert.True(IsChunkId(id));
        // XxHash128 of the bytes, as System.IO.Hashing computes it (independent of the range reading).
        Assert.Equal(Convert.ToHexStringLower(System.IO.Hashing.XxHash128.Hash(Encoding.UTF8.GetBytes("alpha\n"))), id);
        Assert.NotEqual(id, OfFileRange(file, 0, 5));
        Assert.NotEqual(id, OfBytes("alphb\n"u8));
        Assert.False(IsChunkId("not-a-hash"));
        Assert.False(IsChunkId(id.ToUpperInvariant()));
    }

    [Fact]
    public void The_same_map_input_gives_the_same_output_id()
    {
        Assert.Equal(MapOutput("code-1", 4, [A, B]), MapOutput("code-1", 4, [A with { }, B with { }]));
        Assert.StartsWith("mo-", MapOutput("code-1", 4, [A]));
    }

    [Fact]
    public void Every_input_that_changes_map_output_changes_its_id()
    {
        var baseline = MapOutput("code-1", 4, [A, B]);
        var variants = new Dictionary<string, string>
        {
            ["code"] = MapOutput("code-2", 4, [A, B]),
            ["reducers"] = MapOutput("code-1", 5, [A, B]),
            ["content"] = MapOutput("code-1", 4, [A with { ContentId = OfBytes("alpha!\n"u8) }, B]),
            ["document id"] = MapOutput("code-1", 4, [A with { DocId = "c.txt" }, B]),
            ["gzip or text"] = MapOutput("code-1", 4, [A with { Gzip = true }, B]),
            ["chunk order"] = MapOutput("code-1", 4, [B, A]),
            ["one chunk fewer"] = MapOutput("code-1", 4, [A]),
            ["one chunk more"] = MapOutput("code-1", 4, [A, B, B]),
            // Fields are length-prefixed: moving a character from one field to the next is another input.
            ["field boundary"] = MapOutput("code-1", 4, [A with { DocId = "a.tx" }, B with { DocId = "tb.txt" }]),
        };
        foreach (var (what, id) in variants) Assert.True(id != baseline, $"changing the {what} kept the id");
        Assert.Equal(variants.Count, variants.Values.Distinct().Count());
    }

    [Fact]
    public void A_job_result_id_follows_code_reducers_and_each_map_output_in_order_and_a_lineage_its_source_code_and_reducers()
    {
        var baseline = JobResult("code-1", 2, ["mo-1", "mo-2"]);
        Assert.Equal(baseline, JobResult("code-1", 2, ["mo-1", "mo-2"]));
        Assert.Equal(5, new[] { baseline, JobResult("code-2", 2, ["mo-1", "mo-2"]), JobResult("code-1", 3, ["mo-1", "mo-2"]),
            JobResult("code-1", 2, ["mo-2", "mo-1"]), JobResult("code-1", 2, ["mo-1", "mo-3"]) }.Distinct().Count());
        var lineage = Lineage("/data/books", "code-1", 2);
        Assert.Equal(lineage, Lineage("/data/books", "code-1", 2));
        Assert.Equal(4, new[] { lineage, Lineage("/data/other", "code-1", 2), Lineage("/data/books", "code-2", 2), Lineage("/data/books", "code-1", 3) }.Distinct().Count());
    }
}
