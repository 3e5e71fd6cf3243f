using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Protocol;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Catalog;
using MapReduce.Storage.Chunking;
using MapReduce.Submit.Client;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// What a job can read, on the standing cluster: gzip files, several -d folders, empty files, a
/// latin1 folder, a 50 MB line; each against an answer computed here from the text itself. And
/// an upload whose file changes under it is refused and leaves nothing in the store; many tiny
/// files are uploaded in a stated time.
/// </summary>
[Collection(StandingCluster.Name)]
public sealed class InputFormatsTests(RunningCluster cluster, ITestOutputHelper log) : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private string[] Seeded(params string[] args) => [.. args, "--cluster", cluster.Api, "--store", cluster.Store];

    private string Blobs => Path.Combine(cluster.Store, "kvstore", "blobs");

    [Fact]
    public async Task Gzip_files_and_plain_ones_in_two_folders_of_the_same_names_give_the_inverted_index_with_folder_prefixed_ids()
    {
        var books = Directory.GetFiles(Cli.Samples("data")).Order(StringComparer.Ordinal).Take(4).ToList();
        var zipped = Directory.CreateDirectory(Path.Combine(_work, "x", "books")).FullName;
        var plain = Directory.CreateDirectory(Path.Combine(_work, "y", "books")).FullName;
        var expected = new List<(string DocId, string Text)>();
        foreach (var book in books)
        {
            var name = Path.GetFileName(book);
            await using (var gz = new GZipStream(File.Create(Path.Combine(zipped, name + ".gz")), CompressionLevel.Fastest)) await gz.WriteAsync(await File.ReadAllBytesAsync(book));
            File.Copy(book, Path.Combine(plain, name));
            var text = await File.ReadAllTextAsync(book);
            expected.Add(($"x/books/{name}.gz", text));
            expected.Add(($"y/books/{name}", text));
        }
        await File.WriteAllTextAsync(Path.Combine(plain, "empty.txt"), ""); // a document with no chunks
        // Neither a FIFO (opened, it would wait for a writer forever) nor a link back up (it once multiplied every count) is read.
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [Path.Combine(plain, "pipe")])) await mkfifo.WaitForExitAsync();
        Directory.CreateSymbolicLink(Path.Combine(plain, "again"), plain);
        // Nor is a link that leads out of the -d folder (a way to read files the folder does not hold).
        File.CreateSymbolicLink(Path.Combine(plain, "elsewhere.txt"), books[0]);

        var output = Path.Combine(_work, "index");
        var job = await Cli.SubmitAsync(Seeded("-d", zipped, "-d", plain, "-c", Cli.Samples("invertedindex"), "-o", output, "--reducers", "2"));
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Equal(Oracle.InvertedIndex(expected), Oracle.ReadParts(output, 2));
        Assert.Equal([
            "warning: skipped 'again': it leads back to the input folder, which holds it (a cycle of symbolic links)",
            $"warning: skipped 'elsewhere.txt': a symbolic link to '{books[0]}', outside the input folder (links are followed only inside it)",
            "warning: skipped 'pipe': a FIFO (named pipe), not a regular file (only regular files are read)",
        ], job.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Matches($@"uploaded {2 * books.Count + 1} files, [\d.]+ MB in {2 * books.Count} chunks", job.Output);

        // map.input.bytes counts the text mapped: a .gz file's decompressed bytes.
        var catalog = new CatalogStore(SqlLocation.SqliteFile(Path.Combine(cluster.Store, "catalog.db")));
        var execId = job.SucceededJob;
        await Cli.EventuallyAsync(() => catalog.GetCounters(execId).Totals.ContainsKey("reduce.output.pairs"), TimeSpan.FromSeconds(10), "the counters did not reach the catalog");
        Assert.Equal(2 * books.Sum(b => new FileInfo(b).Length), catalog.GetCounters(execId).Totals["map.input.bytes"]);
        var dataId = Regex.Match(job.Output, @"--data-id (\S+)").Groups[1].Value;
        Assert.Equal(books.Select(b => $"{Path.GetFileName(b)}.gz"), catalog.GetChunks(dataId).Where(c => c.ChunkId.EndsWith(".gz", StringComparison.Ordinal)).Select(c => c.DocId[("x/books/".Length)..]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_latin1_folder_is_counted_with_its_accents_and_refused_as_utf8_with_the_byte_offset_and_only_empty_files_give_empty_parts()
    {
        var input = Directory.CreateDirectory(Path.Combine(_work, "latin")).FullName;
        var text = string.Concat(Enumerable.Range(0, 2000).Select(i => $"café café naïve {(i % 3 == 0 ? "Ærø " : "")}garçon\n"));
        await File.WriteAllBytesAsync(Path.Combine(input, "menu.txt"), Encoding.Latin1.GetBytes(text));

        var refused = await Cli.SubmitAsync(Seeded("-d", input, "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "refused")));
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal("error: input file 'menu.txt' is not valid UTF-8 at byte offset 3; give its encoding with --encoding (e.g. --encoding latin1)", refused.Error.Trim());

        var output = Path.Combine(_work, "count");
        var job = await Cli.SubmitAsync(Seeded("-d", input, "--encoding", "latin1", "-c", Cli.Samples("wordcount"), "-o", output, "--reducers", "2"));
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Equal(Oracle.WordCount([("menu.txt", text)]), Oracle.ReadParts(output, 2));
        Assert.Contains("café\t4000", Oracle.ReadParts(output, 2));

        var empty = Directory.CreateDirectory(Path.Combine(_work, "empty")).FullName;
        await File.WriteAllTextAsync(Path.Combine(empty, "a.txt"), "");
        var nothing = await Cli.SubmitAsync(Seeded("-d", empty, "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "nothing"), "--reducers", "3"));
        Assert.True(nothing.ExitCode == 0, nothing.ToString());
        Assert.Empty(Oracle.ReadParts(Path.Combine(_work, "nothing"), 3));
    }

    /// <summary>A line of 50 MB, far past the 8 MiB block: its chunk holds it whole, and Map gets it whole.</summary>
    [Fact]
    public async Task A_50_MB_line_is_mapped_whole()
    {
        var input = Directory.CreateDirectory(Path.Combine(_work, "long")).FullName;
        const string phrase = "lorem ipsum dolor ";
        var repeats = 50_000_000 / phrase.Length;
        await using (var file = new StreamWriter(Path.Combine(input, "long.txt")))
        {
            await file.WriteAsync("first line\n");
            for (var i = 0; i < repeats; i++) await file.WriteAsync(phrase);
            await file.WriteAsync("\nlast line\n");
        }
        var output = Path.Combine(_work, "count");
        var job = await Cli.SubmitAsync(Seeded("-d", input, "-c", Cli.Samples("wordcount"), "-o", output, "--reducers", "1"));
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Equal(new SortedSet<string>([$"dolor\t{repeats}", "first\t1", $"ipsum\t{repeats}", "last\t1", "line\t2", $"lorem\t{repeats}"], StringComparer.Ordinal),
            Oracle.ReadParts(output, 1));
    }

    /// <summary>
    /// The upload itself, against this cluster, with a blob client that rewrites one input file once
    /// its first chunk is stored (and one that deletes a file not yet read): the upload fails with one
    /// line, and the chunks it had stored are deleted with it.
    /// </summary>
    [Fact]
    public async Task A_file_changed_or_deleted_during_the_upload_fails_it_and_leaves_nothing_in_the_store()
    {
        var api = new ClusterApi([cluster.Api], TestToken.Value);
        var store = await api.StoreAsync(CancellationToken.None);
        var blobs = new BlobClient(new FixedDataChannel(new KvStoreProtocol.DataEndpoint(store.DataUrl, store.StoreRoot, store.StoreId)), _ => { }, true, api.Token, api.ServerCheck);
        var input = Directory.CreateDirectory(Path.Combine(_work, "changing")).FullName;
        for (var i = 0; i < 3; i++) await File.WriteAllTextAsync(Path.Combine(input, $"f{i}.txt"), string.Concat(Enumerable.Repeat($"file {i} has some words\n", 400)));
        var documents = InputFolder.List(input);
        var before = DataFolders();

        var changing = new AfterFirstPut(blobs, () => File.AppendAllText(Path.Combine(input, "f0.txt"), "one more line\n"));
        var changed = await Assert.ThrowsAsync<InputException>(() => new DatasetUpload(api, changing, _ => { }).RunAsync(documents, input, 2048, TextEncodings.Utf8, CancellationToken.None));
        Assert.Equal("input file 'f0.txt' changed while it was uploaded; run the job again once the file is complete", changed.Message);
        Assert.True(changing.Puts > 1, "the upload stored chunks before it failed");
        Assert.Equal(before, DataFolders());

        var deleting = new AfterFirstPut(blobs, () => File.Delete(Path.Combine(input, "f2.txt")));
        var deleted = await Assert.ThrowsAsync<InputException>(() => new DatasetUpload(api, deleting, _ => { }).RunAsync(InputFolder.List(input), input, 2048, TextEncodings.Utf8, CancellationToken.None));
        Assert.Equal("input file 'f2.txt' was deleted while it was uploaded; run the job again without it, or once it is back", deleted.Message);
        Assert.Equal(before, DataFolders());
    }

    /// <summary>
    /// Tiny files listed, checked and uploaded as the CLI does, against this cluster: 10,000 of them
    /// (MAPREDUCE_TINY_FILES=100000 for the figure in docs/architecture.md) within a minute, each a
    /// document of one chunk. About 0.3 ms a file was measured, nearly all of it the store's work per blob.
    /// </summary>
    [Fact]
    public async Task Ten_thousand_tiny_files_are_listed_checked_and_uploaded_within_a_minute()
    {
        var files = int.TryParse(Environment.GetEnvironmentVariable("MAPREDUCE_TINY_FILES"), out var n) ? n : 10_000;
        var input = Directory.CreateDirectory(Path.Combine(_work, "tiny")).FullName;
        for (var i = 0; i < files; i++)
        {
            var folder = Path.Combine(input, $"d{i % 100:D2}");
            if (i < 100) Directory.CreateDirectory(folder);
            await File.WriteAllTextAsync(Path.Combine(folder, $"f{i:D6}.txt"), $"tiny file number {i}\n");
        }
        var api = new ClusterApi([cluster.Api], TestToken.Value);
        var store = await api.StoreAsync(CancellationToken.None);
        var blobs = new BlobClient(new FixedDataChannel(new KvStoreProtocol.DataEndpoint(store.DataUrl, store.StoreRoot, store.StoreId)), _ => { }, true, api.Token, api.ServerCheck);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var documents = InputFolder.List([input], warning => Assert.Fail(warning));
        var listed = watch.Elapsed;
        InputCheck.Run(documents, TextEncodings.Utf8, 256L << 20);
        var checkedAt = watch.Elapsed;
        var dataId = await new DatasetUpload(api, blobs, _ => { }).RunAsync(documents, input, 8 << 20, TextEncodings.Utf8, CancellationToken.None);
        var total = watch.Elapsed;
        log.WriteLine($"{files} tiny files: listed in {listed.TotalSeconds:0.0} s, checked in {(checkedAt - listed).TotalSeconds:0.0} s, uploaded in {(total - checkedAt).TotalSeconds:0.0} s ({total.TotalMilliseconds / files:0.00} ms a file)");

        Assert.True(total < TimeSpan.FromMinutes(files / 10_000.0), $"{files} tiny files took {total}");
        var chunks = new CatalogStore(SqlLocation.SqliteFile(Path.Combine(cluster.Store, "catalog.db"))).GetChunks(dataId);
        Assert.Equal(documents.Select(d => d.DocId), chunks.Select(c => c.DocId).Order(StringComparer.Ordinal));
    }

    private string[] DataFolders() =>
        Directory.Exists(Path.Combine(Blobs, "data")) ? Directory.GetDirectories(Path.Combine(Blobs, "data")).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal).ToArray() : [];

    /// <summary>A blob client that does something to the input once the first chunk is stored, and counts the chunks stored.</summary>
    private sealed class AfterFirstPut(IBlobClient inner, Action afterFirst) : IBlobClient
    {
        private int _puts;

        public int Puts => _puts;

        public async Task<long> PutFileRangeAsync(string key, string path, long offset, long length, CancellationToken ct = default)
        {
            var stored = await inner.PutFileRangeAsync(key, path, offset, length, ct);
            if (Interlocked.Increment(ref _puts) == 1) afterFirst();
            return stored;
        }

        public Task<long> PutAsync(string key, byte[] data, CancellationToken ct = default) => inner.PutAsync(key, data, ct);

        public Task<long> PutFileAsync(string key, string path, CancellationToken ct = default) => inner.PutFileAsync(key, path, ct);

        public Task<long> PutOwnedFileAsync(string key, string path, CancellationToken ct = default) => inner.PutOwnedFileAsync(key, path, ct);

        public Task<byte[]> GetBytesAsync(string key, CancellationToken ct = default) => inner.GetBytesAsync(key, ct);

        public Task<RentedBlob> GetRentedAsync(string key, CancellationToken ct = default) => inner.GetRentedAsync(key, ct);

        public Task<StoredBlob> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default) => inner.OpenReadAsync(key, offset, length, ct);

        public Task<long> GetToFileAsync(string key, string path, CancellationToken ct = default) => inner.GetToFileAsync(key, path, ct);
    }
}
