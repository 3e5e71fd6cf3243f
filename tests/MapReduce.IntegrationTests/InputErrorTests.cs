namespace MapReduce.IntegrationTests;

/// <summary>User mistakes caught before any cluster starts: one clear line on stderr, exit code 2, no stack trace.</summary>
public sealed class InputErrorTests : IDisposable
{
    private readonly string _work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private async Task AssertUsageError(string expected, params string[] args)
    {
        var result = await Cli.RunAsync("MapReduce.Submit", [.. args, "--store", Path.Combine(_work, "store")], TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal($"error: {expected}", result.Error.Trim());
        Assert.False(Directory.Exists(Path.Combine(_work, "store", "logs")), "no cluster may be started for a usage error");
    }

    /// <summary>A mistake in the blob-store block stops a job and a node alike with the key's name.</summary>
    [Fact]
    public async Task A_blob_store_mistake_in_the_config_file()
    {
        var config = Path.Combine(_work, "s3.hocon");
        await File.WriteAllTextAsync(config, "mapreduce.blob-store { kind = s3 }");
        await AssertUsageError("mapreduce.blob-store.bucket must name a bucket when kind = s3",
            "-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "o"), "--config", config);

        await File.WriteAllTextAsync(config, "mapreduce.blob-store.kind = azure");
        var node = await Cli.RunAsync("MapReduce.Node", ["--role", "worker", "--data-dir", Path.Combine(_work, "node"), "--config", config], TimeSpan.FromSeconds(60));
        Assert.True(node.ExitCode == 2, node.ToString());
        Assert.Equal("error: mapreduce.blob-store.kind must be local or s3, not 'azure'", node.Error.Trim());
    }

    [Fact]
    public async Task A_csv_row_with_an_unclosed_quote_and_a_json_line_that_does_not_parse_name_the_file_and_line()
    {
        var csv = Directory.CreateDirectory(Path.Combine(_work, "csv")).FullName;
        await File.WriteAllTextAsync(Path.Combine(csv, "orders.csv"), "id,category,amount\n1,\"tools\",2.50\n2,\"a\nb\",3\n3,\"open,4\n4,x,5\n");
        await AssertUsageError("input file 'orders.csv' is not valid CSV at line 5: a quoted field starts here and its closing quote is missing",
            "-d", csv, "-c", Cli.Samples("csv-totals"), "--input-format", "csv", "-o", Path.Combine(_work, "o"));

        var jsonl = Directory.CreateDirectory(Path.Combine(_work, "jsonl")).FullName;
        await File.WriteAllTextAsync(Path.Combine(jsonl, "events.jsonl"), "{\"a\":1}\n{\"a\":2\n");
        // What is wrong is System.Text.Json's reader's own words, after the file and line.
        var json = await Cli.RunAsync("MapReduce.Submit", ["-d", jsonl, "-c", Cli.Samples("wordcount"), "--input-format", "jsonl", "-o", Path.Combine(_work, "o"), "--store", Path.Combine(_work, "store")], TimeSpan.FromSeconds(60));
        Assert.True(json.ExitCode == 2, json.ToString());
        Assert.Single(json.Error.Trim().Split('\n'));
        Assert.StartsWith("error: input file 'events.jsonl': line 2 is not valid JSON: ", json.Error);
        Assert.DoesNotContain("LineNumber", json.Error);

        await AssertUsageError("--input-format must be one of lines, csv, jsonl, whole-file, not 'xml'",
            "-d", jsonl, "-c", Cli.Samples("wordcount"), "--input-format", "xml", "-o", Path.Combine(_work, "o"));
    }

    [Fact]
    public Task A_missing_input_folder() =>
        AssertUsageError($"input folder '{Path.Combine(_work, "nope")}' does not exist", "-d", Path.Combine(_work, "nope"), "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "o"));

    [Fact]
    public Task A_code_folder_without_task_csx()
    {
        var code = Directory.CreateDirectory(Path.Combine(_work, "code")).FullName;
        return AssertUsageError($"code folder '{code}' has no task.csx and no job project (.csproj)", "-d", Cli.Samples("data"), "-c", code, "-o", Path.Combine(_work, "o"));
    }

    [Fact]
    public Task An_empty_input_folder()
    {
        var data = Directory.CreateDirectory(Path.Combine(_work, "empty")).FullName;
        return AssertUsageError($"input folder '{data}' holds no files", "-d", data, "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "o"));
    }

    [Fact]
    public async Task A_binary_input_file()
    {
        var data = Directory.CreateDirectory(Path.Combine(_work, "bin")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(data, "image.png"), [0x89, 0x50, 0x4E, 0x47, 0x00, 0x01]);
        await AssertUsageError("input file 'image.png' looks binary (a NUL byte at offset 4); MapReduce.NET reads text files (UTF-8)",
            "-d", data, "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "o"));
    }

    [Fact]
    public async Task A_gzip_file_cut_short()
    {
        var data = Directory.CreateDirectory(Path.Combine(_work, "gz")).FullName;
        var compressed = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            await gzip.WriteAsync(System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 10_000).Select(i => $"line {i}\n"))));
        await File.WriteAllBytesAsync(Path.Combine(data, "log.gz"), compressed.ToArray()[..(int)(compressed.Length / 2)]);
        await AssertUsageError("input file 'log.gz' is cut short: its gzip data ends before its end marker",
            "-d", data, "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "o"));
    }

    [Fact]
    public async Task A_line_past_the_configured_cap_and_an_unknown_encoding()
    {
        var data = Directory.CreateDirectory(Path.Combine(_work, "long")).FullName;
        await File.WriteAllTextAsync(Path.Combine(data, "a.txt"), "short\n" + new string('x', 2000) + "\n");
        var config = Path.Combine(_work, "cap.hocon");
        await File.WriteAllTextAsync(config, "mapreduce.max-line-size = 1KiB");
        await AssertUsageError("input file 'a.txt': line 2 is longer than mapreduce.max-line-size (1,024 bytes); a line is mapped whole, in memory: split it, or raise the limit",
            "-d", data, "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "o"), "--config", config);
        await AssertUsageError("unknown encoding 'latin-9000'; `--encoding list` prints the names and code pages this machine knows (e.g. utf-8, latin1, windows-1252, utf-16)",
            "-d", data, "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "o"), "--encoding", "latin-9000");
    }

    [Fact]
    public Task An_output_folder_inside_the_input_folder()
    {
        var data = Directory.CreateDirectory(Path.Combine(_work, "in")).FullName;
        File.WriteAllText(Path.Combine(data, "a.txt"), "a b\n");
        return AssertUsageError("the output folder must not be inside the input folder (its parts would become input of the next run)",
            "-d", data, "-c", Cli.Samples("wordcount"), "-o", Path.Combine(data, "out"));
    }

    [Fact]
    public async Task A_sample_of_no_lines_or_of_a_stored_dataset()
    {
        await AssertUsageError("--sample must be at least 1 line, not 0",
            "-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "o"), "--sample", "0");
        await AssertUsageError("--sample applies to --data: a stored dataset (--data-id) is used as it is",
            "--data-id", "data-x", "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "o"), "--sample", "5");
    }

    [Fact]
    public Task An_in_process_run_against_a_named_cluster() =>
        AssertUsageError("--in-process runs the job in this command's own process: not with --cluster, --workers, --keep-cluster or --detach",
            "-d", Cli.Samples("data"), "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "o"), "--in-process", "--cluster", "http://127.0.0.1:1");

    [Fact]
    public Task Both_data_and_data_id() =>
        AssertUsageError("give the input as --data FOLDER or --data-id ID (exactly one)",
            "-d", Cli.Samples("data"), "--data-id", "data-x", "-c", Cli.Samples("wordcount"), "-o", Path.Combine(_work, "o"));
}
