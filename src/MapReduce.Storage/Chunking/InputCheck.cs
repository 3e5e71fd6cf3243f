using System.Text;

namespace MapReduce.Storage.Chunking;

/// <summary>
/// Reads every input document once before anything is uploaded: each must be text in the chosen
/// encoding (not binary, every byte valid), a .gz file must be whole gzip data, and no line may be
/// longer than <c>mapreduce.max-line-size</c>. So bad input fails before a cluster is asked for
/// anything and leaves nothing stored. Files are read side by side, one per core; the problem
/// reported is the first in document order, whichever was found first.
/// </summary>
public static class InputCheck
{
    /// <summary>Throws <see cref="InputException"/> for the first document in order that has a problem.</summary>
    /// <param name="format">CSV and JSON lines are also checked record by record (<see cref="RecordChecks"/>); whole files, read as bytes, are not read here at all.</param>
    public static void Run(IReadOnlyList<InputDocument> documents, Encoding encoding, long maxLineBytes, InputFormat format = InputFormat.Lines)
    {
        if (format == InputFormat.WholeFile) return;
        var problems = new InputException?[documents.Count];
        var firstProblem = int.MaxValue;
        Parallel.For(0, documents.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, (int i) =>
        {
            if (i > Volatile.Read(ref firstProblem)) return; // an earlier document already failed
            try
            {
                ITextSink check = new Utf8TextCheck(maxLineBytes);
                if (RecordChecks.For(format, documents[i]) is { } records) check = new BothSinks(check, records);
                TextSource.Read(documents[i], encoding, check);
            }
            catch (InputException e)
            {
                Fail(i, e);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                Fail(i, new InputException($"input file '{documents[i].DocId}' was deleted while it was read"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Fail(i, new InputException($"input file '{documents[i].DocId}' cannot be read: {e.Message}"));
            }
        });
        if (firstProblem != int.MaxValue) throw problems[firstProblem]!;

        void Fail(int index, InputException problem)
        {
            problems[index] = problem;
            int seen;
            while (index < (seen = Volatile.Read(ref firstProblem)) && Interlocked.CompareExchange(ref firstProblem, index, seen) != seen) { }
        }
    }
}

/// <summary>Hands the text to two sinks, in order.</summary>
internal sealed class BothSinks(ITextSink first, ITextSink second) : ITextSink
{
    public void Write(ReadOnlySpan<byte> utf8)
    {
        first.Write(utf8);
        second.Write(utf8);
    }

    public void Complete()
    {
        first.Complete();
        second.Complete();
    }
}
