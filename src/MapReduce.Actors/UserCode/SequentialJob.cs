using System.Buffers;
using System.Text;
using MapReduce.Storage.Chunking;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// A whole job in this process on one thread, with no cluster: read every file, Map, Combine
/// (where the script has one), group, sort, Reduce. It is the benchmark's baseline, and uses the
/// same map buffer, runs and reduce as the workers, so the two differ only in distribution.
/// </summary>
public static class SequentialJob
{
    private static readonly UTF8Encoding Utf8 = new(false, false);

    /// <summary>Writes the result as key-ordered lines into <paramref name="outputFile"/>; returns the line count.</summary>
    public static long Run(IUserTask task, IReadOnlyList<InputDocument> documents, string outputFile, string scratchFolder, long bufferBytes)
    {
        Directory.CreateDirectory(scratchFolder);
        var output = task.NewMapOutput(1, bufferBytes, scratchFolder);
        foreach (var doc in documents) task.RunMap(doc.DocId, ReadText(doc), output, $"document '{doc.DocId}'");
        var runFile = Path.Combine(scratchFolder, "run");
        var counts = output.WriteRuns(_ => new FileStream(runFile, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16), "the input");
        using var result = new FileStream(outputFile, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        if (counts[0] == 0) return 0;
        using var run = new FileStream(runFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return task.RunReduce([run], result, "the input").Lines;
    }

    /// <summary>
    /// A document's text, read as a worker reads a chunk: its bytes into a pooled buffer, then one
    /// decode. (A StreamReader's ReadToEnd decodes piecewise into a builder and copies the result
    /// once more: 240-290 ms against 80-130 ms for the 200 MB bench input, a handicap the baseline
    /// must not carry.)
    /// </summary>
    private static string ReadText(InputDocument doc)
    {
        using var stream = InputFolder.OpenText(doc); // past a UTF-8 BOM, as the upload cuts chunks
        var length = checked((int)(stream.Length - stream.Position));
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            stream.ReadExactly(buffer, 0, length);
            return Utf8.GetString(buffer, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
