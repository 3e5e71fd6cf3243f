using MapReduce.Storage.Blobs;

namespace MapReduce.Storage.Records;

/// <summary>
/// What a map buffer spilled to disk once it was full: one run per non-empty partition, back to
/// back in one file (as Hadoop's spill files with their index), so a spill is one file however many
/// partitions there are.
/// </summary>
internal sealed class SpillFile
{
    private readonly long[] _start;
    private readonly long[] _length;

    private SpillFile(string path, int partitions)
    {
        Path = path;
        _start = new long[partitions];
        _length = new long[partitions];
    }

    public string Path { get; }

    /// <summary>Pairs written to this spill.</summary>
    public long Pairs { get; private set; }

    public bool Holds(int partition) => _length[partition] > 0;

    /// <summary>Writes a spill through <paramref name="write"/>, which asks for one run writer per non-empty partition in partition order and says when each is done.</summary>
    public static SpillFile Write(string path, int partitions, bool compress, Action<Func<int, RunWriter>, Action<int, RunWriter>> write)
    {
        var spill = new SpillFile(path, partitions);
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        write(partition =>
        {
            spill._start[partition] = file.Position;
            return new RunWriter(file, compress);
        }, (partition, writer) =>
        {
            writer.Complete();
            spill._length[partition] = file.Position - spill._start[partition];
            spill.Pairs += writer.Values;
        });
        return spill;
    }

    /// <summary>The run of one partition, as a stream of exactly its bytes.</summary>
    public Stream Open(int partition)
    {
        var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16) { Position = _start[partition] };
        return new ExactLengthStream(file, _length[partition], ownsSource: true);
    }

    public void Delete()
    {
        try { File.Delete(Path); } catch (IOException) { }
    }
}
