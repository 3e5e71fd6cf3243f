using System.Text;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.UserCode;
using MapReduce.Actors.Worker;
using MapReduce.Storage.Chunking;
using MapReduce.Storage.Records;

namespace MapReduce.Testing;

/// <summary>
/// Runs a whole job in this process, as MRUnit runs a Hadoop job or Spark runs in local mode: Map,
/// Combine, Partition and Reduce go through the engine's own code, the map buffer (grouping,
/// combining, spilling past its bytes), one sorted run per partition, and the k-way merge that
/// feeds Reduce, so the parts are those a cluster writes for the same input and reducers. The
/// input is cut as the CLI cuts files (at line ends, at most <see cref="HarnessOptions.BlockSize"/>
/// a chunk) and each chunk is one map task. A job whose Partition calls TotalOrder first has its
/// key ranges sampled as workers sample them (the head of up to 64 chunks spread over the input).
/// Nothing else of a cluster runs: no processes, no store, no retries (what user code throws
/// comes out as the <see cref="UserCodeException"/> that would fail the attempt).
/// </summary>
public static class JobHarness
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>Runs the job class <typeparamref name="TJob"/> of a job project over <paramref name="documents"/> (document id, text).</summary>
    public static HarnessResult Run<TJob>(IEnumerable<(string DocId, string Text)> documents, HarnessOptions? options = null) =>
        Run(typeof(TJob), documents, options);

    /// <summary>Runs a job class over <paramref name="documents"/>.</summary>
    public static HarnessResult Run(Type jobClass, IEnumerable<(string DocId, string Text)> documents, HarnessOptions? options = null) =>
        Run(ProjectJob.Bind(jobClass), documents, options ?? new HarnessOptions());

    /// <summary>Runs a task.csx (a file, or a folder holding one) over <paramref name="documents"/>; it is compiled as workers compile it.</summary>
    public static HarnessResult RunScript(string path, IEnumerable<(string DocId, string Text)> documents, HarnessOptions? options = null)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, ScriptCompiler.ScriptFileName) : path;
        return Run(ScriptCompiler.Compile(File.ReadAllText(file), "harness"), documents, options ?? new HarnessOptions());
    }

    /// <summary>
    /// The documents of input folders with the ids the CLI gives them (`-d`): every regular file
    /// below each folder, hidden ones skipped, the id its path below the folder with '/' (with
    /// several folders, each id starts with its folder's name). UTF-8 text; .gz files are not read.
    /// </summary>
    public static IReadOnlyList<(string DocId, string Text)> Documents(params string[] folders) =>
        [.. InputFolder.List(folders, _ => { }).Select(d =>
        {
            using var reader = new StreamReader(InputFolder.OpenText(d), StrictUtf8);
            return (d.DocId, reader.ReadToEnd());
        })];

    /// <summary>One chunk of a document; <c>First</c> is the document's first chunk (a CSV file's header is its first record).</summary>
    private sealed record Chunk(string DocId, int Index, byte[] Bytes, byte[] First)
    {
        public string Describe() => new MapChunk(DocId, Index, "").Describe();
    }

    private static HarnessResult Run(IUserTask task, IEnumerable<(string DocId, string Text)> documents, HarnessOptions options)
    {
        if (options.Reducers < 1) throw new ArgumentException($"Reducers must be at least 1, not {options.Reducers}");
        var chunks = Cut(documents, options.BlockSize, options.InputFormat);
        if (chunks.Count > 0) MapRecords.Check(options.InputFormat, task.RecordType, "the harness's input");
        var scratch = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-harness", Guid.NewGuid().ToString("N"))).FullName;
        var counters = new Dictionary<string, long>(StringComparer.Ordinal);
        var log = new StringBuilder();
        try
        {
            KeyRanges? ranges = null;
            if (task.UsesTotalOrder && options.Reducers > 1)
            {
                var sample = KeyRangeSampler.Spread(chunks).Select(c => (c.DocId, KeyRangeSampler.HeadText(c.Bytes))).ToList();
                ranges = new AttemptContext().Run(() => task.SampleKeyRanges(sample, options.Reducers, "the key sample"));
            }
            var runs = Enumerable.Range(0, options.Reducers).Select(_ => new List<string>()).ToArray();
            for (var m = 0; m < chunks.Count; m++)
                MapTask(task, chunks[m], m, ranges, options, scratch, runs, counters, log);
            var parts = new string[options.Reducers];
            for (var p = 0; p < options.Reducers; p++) parts[p] = ReduceTask(task, p, runs[p], options, scratch, counters, log);
            return new HarnessResult(parts, counters, log.ToString());
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Documents cut into chunks as the CLI's upload cuts files: at line ends (LineChunker), CSV at record ends (CsvChunker), a whole file as one.</summary>
    private static List<Chunk> Cut(IEnumerable<(string DocId, string Text)> documents, int blockSize, InputFormat format)
    {
        var chunks = new List<Chunk>();
        foreach (var (docId, text) in documents)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            if (bytes.Length == 0) continue; // as the upload: an empty file has no chunks
            IEnumerable<ChunkRange> cuts = format switch
            {
                InputFormat.WholeFile => [new ChunkRange(0, bytes.Length)],
                InputFormat.Csv => CsvChunker.Cuts(new MemoryStream(bytes, writable: false), blockSize),
                _ => LineChunker.Cuts(new MemoryStream(bytes, writable: false), blockSize),
            };
            var index = 0;
            byte[]? first = null;
            foreach (var cut in cuts)
            {
                var chunk = bytes.AsSpan((int)cut.Offset, (int)cut.Length).ToArray();
                first ??= chunk;
                chunks.Add(new Chunk(docId, index++, chunk, first));
            }
        }
        return chunks;
    }

    /// <summary>One map task over one chunk, as TaskExecutor runs it: Map into the buffer, one sorted run per partition, the same counters.</summary>
    private static void MapTask(IUserTask task, Chunk chunk, int number, KeyRanges? ranges, HarnessOptions options, string scratch,
        List<string>[] runs, Dictionary<string, long> counters, StringBuilder log)
    {
        var context = new AttemptContext { KeyRanges = ranges };
        var folder = Directory.CreateDirectory(Path.Combine(scratch, $"m{number:D5}")).FullName;
        var output = task.NewMapOutput(options.Reducers, options.MapBufferBytes, folder, options.CompressRuns);
        long pairs, records = 0;
        if (options.InputFormat == InputFormat.Lines)
        {
            var text = StrictUtf8.GetString(chunk.Bytes);
            pairs = context.Run(() => task.RunMap(chunk.DocId, text, output, chunk.Describe()));
        }
        else
        {
            // As a worker reads a chunk of records (ChunkRecords), the header from the file's first chunk.
            var key = "harness" + InputFormats.KeySuffix(options.InputFormat);
            using var reader = ChunkRecords.FromBytes(new MapChunk(chunk.DocId, chunk.Index, key), options.InputFormat, task.RecordType, chunk.Bytes, chunk.Index == 0 ? null : chunk.First);
            pairs = context.Run(() => task.RunMapRecords(chunk.DocId, reader.Read(), output, chunk.Describe()));
            records = reader.Count;
        }
        var written = context.Run(() => output.WriteRuns(p => File.Create(Path.Combine(folder, $"p{p:D5}")), chunk.Describe()));
        for (var p = 0; p < written.Length; p++)
            if (written[p] > 0) runs[p].Add(Path.Combine(folder, $"p{p:D5}"));
        var taskCounters = context.UserCounters();
        taskCounters[TaskCounterNames.MapInputBytes] = chunk.Bytes.Length;
        taskCounters[TaskCounterNames.MapInputLines] = options.InputFormat == InputFormat.Lines ? ChunkText.Lines(chunk.Bytes) : records;
        taskCounters[TaskCounterNames.MapOutputPairs] = pairs;
        if (task.HasCombine)
        {
            taskCounters[TaskCounterNames.CombineInput] = pairs;
            taskCounters[TaskCounterNames.CombineOutput] = written.Sum(c => (long)c);
        }
        taskCounters[TaskCounterNames.SpilledPairs] = output.SpilledPairs;
        Add(counters, taskCounters);
        log.Append(context.LogText(null));
    }

    /// <summary>One reduce task: the partition's runs merged (in passes first past the merge factor, as TaskExecutor does), Reduce per key, the part's text.</summary>
    private static string ReduceTask(IUserTask task, int partition, List<string> runFiles, HarnessOptions options, string scratch,
        Dictionary<string, long> counters, StringBuilder log)
    {
        var context = new AttemptContext();
        var where = $"partition {partition}";
        var shuffleBytes = runFiles.Sum(f => new FileInfo(f).Length);
        var merged = 0;
        runFiles = [.. MergePasses.ReduceAsync(runFiles, options.MergeFactor, (pass, group) =>
        {
            var file = Path.Combine(scratch, $"r{partition:D5}-merged-{pass:D2}-{merged++:D5}");
            var opened = group.Select(f => (Stream)File.OpenRead(f)).ToList();
            try
            {
                using var output = File.Create(file);
                task.MergeRuns(opened, output, options.CompressRuns);
            }
            finally
            {
                foreach (var run in opened) run.Dispose();
            }
            return Task.FromResult(file);
        }).GetAwaiter().GetResult()];
        var runs = runFiles.Select(f => (Stream)File.OpenRead(f)).ToList();
        using var output = new MemoryStream();
        ReduceCounts reduced;
        try
        {
            reduced = context.Run(() => task.RunReduce(runs, output, where, default, options.MaxReducerPartition));
        }
        finally
        {
            foreach (var run in runs) run.Dispose();
        }
        var part = context.UserCounters();
        part[TaskCounterNames.ShuffleBytes] = shuffleBytes;
        part[TaskCounterNames.ReduceGroups] = reduced.Groups;
        part[TaskCounterNames.ReduceOutputPairs] = reduced.Lines;
        part[TaskCounterNames.ReduceOutputBytes] = output.Length;
        Add(counters, part);
        log.Append(context.LogText(null));
        return StrictUtf8.GetString(output.GetBuffer(), 0, (int)output.Length);
    }

    private static void Add(Dictionary<string, long> total, Dictionary<string, long> task)
    {
        foreach (var (name, value) in task) total[name] = total.GetValueOrDefault(name) + value;
    }
}
