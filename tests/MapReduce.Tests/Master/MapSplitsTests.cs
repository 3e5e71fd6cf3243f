using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;

namespace MapReduce.Tests.Master;

public sealed class MapSplitsTests
{
    private const long MB = 1_000_000;

    private static List<ChunkRow> Files(int count, long bytes) =>
        Enumerable.Range(0, count).Select(i => new ChunkRow { DirId = "d", DocId = $"f{i:D3}.txt", ChunkIndex = 0, ChunkId = $"k{i:D3}", Bytes = bytes }).ToList();

    [Fact]
    public void A_small_input_keeps_one_task_per_chunk()
    {
        // The sample books: 8 files, 3.3 MB in all.
        var chunks = Files(8, 420_000);

        var tasks = MapSplits.Plan(chunks, 16 << 20);

        Assert.Equal(8, tasks.Length);
        Assert.All(tasks, t => Assert.Null(t.More));
        Assert.Equal(chunks.Select(c => c.ChunkId), tasks.Select(t => t.ChunkKey));
    }

    [Fact]
    public void Many_small_files_of_a_large_input_share_tasks_in_order_and_none_is_lost()
    {
        // The benchmark: 64 files of 3.125 MB. Each counts 3.125 MB + 1 MiB against
        // min(16 MiB, (200 MB + 64 MiB) / 16) = 16.69 MB: four files a task.
        var chunks = Files(64, 3_125_000);

        var tasks = MapSplits.Plan(chunks, 16 << 20);

        Assert.Equal(16, tasks.Length);
        Assert.All(tasks, t => Assert.Equal(4, t.Chunks().Length));
        Assert.Equal(Enumerable.Range(0, 16).Select(i => $"m{i:D5}"), tasks.Select(t => t.TaskId));
        Assert.Equal(chunks.Select(c => new MapChunk(c.DocId, c.ChunkIndex, c.ChunkId)), tasks.SelectMany(t => t.Chunks()));
    }

    [Fact]
    public void Full_chunks_are_not_packed_and_a_chunk_above_the_split_size_gets_a_task_of_its_own()
    {
        var chunks = Files(10, 8 * (1 << 20));
        chunks.Insert(3, new ChunkRow { DirId = "d", DocId = "huge.txt", ChunkIndex = 0, ChunkId = "huge", Bytes = 40 * MB });

        var tasks = MapSplits.Plan(chunks, 16 << 20);

        Assert.Equal(11, tasks.Length);
        Assert.Equal("huge", tasks[3].ChunkKey);
        Assert.All(tasks, t => Assert.Null(t.More));
    }

    [Fact]
    public void A_smaller_split_size_makes_more_tasks()
    {
        var chunks = Files(64, 3_125_000);

        Assert.Equal(64, MapSplits.Plan(chunks, 4 * MB).Length);
        Assert.Equal(32, MapSplits.Plan(chunks, 9 * MB).Length);
    }

    [Fact]
    public void No_chunks_make_no_tasks() => Assert.Empty(MapSplits.Plan([], 16 << 20));
}
