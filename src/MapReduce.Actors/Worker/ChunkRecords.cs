using System.IO.Compression;
using System.Text;
using System.Text.Json;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.UserCode;
using MapReduce.Sdk;
using MapReduce.Storage.Chunking;

namespace MapReduce.Actors.Worker;

/// <summary>
/// The records of one chunk of a CSV, JSON lines or whole-file dataset (its key says which:
/// <see cref="InputFormats.OfChunkKey"/>), read as Map asks for them: CSV rows by the rules the
/// upload cut them with (<see cref="CsvRecords"/>), each with its file's header (the first record
/// of the file's first chunk, fetched for a later chunk); a JSON value per non-blank line, as a
/// <see cref="JsonElement"/> or deserialized into Map's record type; a whole file's bytes. A record
/// that cannot be read fails the attempt with the chunk and its line, as an <see cref="InputException"/>.
/// </summary>
public sealed class ChunkRecords : IDisposable
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly MapChunk _chunk;
    private readonly InputFormat _format;
    private readonly Type _recordType;
    private readonly Stream _content;
    private readonly CsvHeader? _header;

    private ChunkRecords(MapChunk chunk, InputFormat format, Type recordType, Stream content, CsvHeader? header)
    {
        _chunk = chunk;
        _format = format;
        _recordType = recordType;
        _content = content;
        _header = header;
    }

    /// <summary>Bytes of the chunk read so far (decompressed, for a gzip chunk).</summary>
    public long Bytes => _content is CountingStream counting ? counting.Count : _content.Length;

    /// <summary>Records read so far.</summary>
    public long Count { get; private set; }

    /// <summary>Fetches a chunk (a gzip one is streamed and decompressed as it is read) and, for a later chunk of a CSV file, its header.</summary>
    public static async Task<ChunkRecords> OpenAsync(IBlobClient blobs, MapChunk chunk, Type recordType, CancellationToken ct)
    {
        var format = InputFormats.OfChunkKey(chunk.ChunkKey, ChunkText.GzipSuffix);
        Stream content = ChunkText.IsGzip(chunk.ChunkKey)
            ? new CountingStream(new GZipStream((await blobs.OpenReadAsync(chunk.ChunkKey, ct: ct).ConfigureAwait(false)).Content, CompressionMode.Decompress))
            : new MemoryStream(await blobs.GetBytesAsync(chunk.ChunkKey, ct).ConfigureAwait(false), writable: false);
        var first = format == InputFormat.Csv && chunk.ChunkIndex > 0 ? await blobs.GetBytesAsync(FirstChunkKey(chunk.ChunkKey), ct).ConfigureAwait(false) : null;
        return new ChunkRecords(chunk, format, recordType, content, first is null ? null : ReadHeader(new MemoryStream(first, writable: false), chunk with { ChunkIndex = 0 }));
    }

    /// <summary>
    /// The records of a chunk held in memory, in <paramref name="format"/> (as the in-process harness
    /// reads them); <paramref name="firstChunk"/>: for a later chunk of a CSV file, the file's first chunk.
    /// </summary>
    public static ChunkRecords FromBytes(MapChunk chunk, InputFormat format, Type recordType, byte[] content, byte[]? firstChunk) =>
        new(chunk, format, recordType, new MemoryStream(content, writable: false),
            firstChunk is null || format != InputFormat.Csv ? null : ReadHeader(new MemoryStream(firstChunk, writable: false), chunk with { ChunkIndex = 0 }));

    /// <summary>The key of the first chunk of the same file: <c>data/D/000003-000007.csv</c> gives <c>data/D/000003-000000.csv</c>.</summary>
    public static string FirstChunkKey(string chunkKey)
    {
        var name = chunkKey.LastIndexOf('/') + 1;
        var dash = chunkKey.IndexOf('-', name);
        var end = chunkKey.IndexOf('.', dash);
        return $"{chunkKey[..(dash + 1)]}{0:D6}{(end < 0 ? "" : chunkKey[end..])}";
    }

    /// <summary>The chunk's records, typed as Map takes them.</summary>
    public IEnumerable<object> Read() => _format switch
    {
        InputFormat.WholeFile => WholeFile(),
        InputFormat.Csv => CsvRows(),
        InputFormat.JsonLines => JsonValues(),
        _ => throw new InvalidOperationException($"{_chunk.Describe()} holds text lines, which are mapped as chunks of text"),
    };

    public void Dispose() => _content.Dispose();

    private IEnumerable<object> WholeFile()
    {
        Count++;
        yield return ((MemoryStream)_content).ToArray();
    }

    private IEnumerable<object> CsvRows()
    {
        var header = _header;
        using var text = new StreamReader(_content, StrictUtf8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        using var records = Guarded(CsvRecords.Read(text)).GetEnumerator();
        while (records.MoveNext())
        {
            if (header is null)
            {
                header = new CsvHeader(records.Current.Fields); // the first chunk starts with the file's header
                continue;
            }
            Count++;
            yield return new CsvRow(header, records.Current.Fields);
        }
    }

    /// <summary>CSV records, with a syntax error (a stored chunk that does not hold what was checked) said with the chunk and line.</summary>
    private IEnumerable<CsvRecord> Guarded(IEnumerable<CsvRecord> records)
    {
        using var reading = records.GetEnumerator();
        while (true)
        {
            try
            {
                if (!reading.MoveNext()) yield break;
            }
            catch (CsvSyntaxException e)
            {
                throw new InputException($"{_chunk.Describe()} is not valid CSV at line {e.Line}{OfTheChunk}: {e.Problem}");
            }
            yield return reading.Current;
        }
    }

    private IEnumerable<object> JsonValues()
    {
        // One options instance per chunk: a cache of a job's types must not outlive its unloadable code.
        var options = _recordType == typeof(JsonElement) ? null : new JsonSerializerOptions(JsonSerializerDefaults.Web) { IncludeFields = true };
        using var text = new StreamReader(_content, StrictUtf8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        long line = 0;
        while (text.ReadLine() is { } json)
        {
            line++;
            if (string.IsNullOrWhiteSpace(json)) continue;
            object? record;
            try
            {
                if (options is null)
                {
                    using var document = JsonDocument.Parse(json);
                    record = document.RootElement.Clone();
                }
                else record = JsonSerializer.Deserialize(json, _recordType, options);
            }
            catch (JsonException e)
            {
                var problem = options is not null && !IsSyntax(e) ? $"does not fit {_recordType.Name}" : "is not valid JSON";
                throw new InputException($"{_chunk.Describe()}: line {line}{OfTheChunk} {problem}: {RecordChecks.JsonProblem(e)}");
            }
            if (record is null) throw new InputException($"{_chunk.Describe()}: line {line}{OfTheChunk} is null; Map takes a {_recordType.Name}");
            Count++;
            yield return record;
        }
    }

    private string OfTheChunk => _chunk.ChunkIndex == 0 ? "" : " of the chunk";

    /// <summary>Whether the JSON itself is broken (the reader's error), rather than not fitting the type.</summary>
    private static bool IsSyntax(JsonException e) => e.InnerException?.GetType().Name == "JsonReaderException" || e.GetType().Name == "JsonReaderException";

    private static CsvHeader? ReadHeader(Stream first, MapChunk chunk)
    {
        using var text = new StreamReader(first, StrictUtf8, detectEncodingFromByteOrderMarks: true);
        try
        {
            foreach (var record in CsvRecords.Read(text)) return new CsvHeader(record.Fields);
        }
        catch (CsvSyntaxException e)
        {
            throw new InputException($"{chunk.Describe()} is not valid CSV at line {e.Line}: {e.Problem}");
        }
        return null;
    }

    /// <summary>Counts the bytes read through it (a gzip chunk's decompressed text).</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Count { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Count; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            Count += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
