using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.Protocol;
using MapReduce.Actors.UserCode;
using MapReduce.Node;
using MapReduce.Storage.Chunking;
using MapReduce.Submit.Client;
using static MapReduce.Actors.Protocol.ApiModels;
using static MapReduce.Submit.ExitCodes;

namespace MapReduce.Submit;

/// <summary>
/// `submit` (also the root command): checks the user's folders, finds or starts the cluster,
/// uploads, submits, and either follows the job to its end and downloads the result, or
/// (<c>--detach</c>) prints the job id once the job is journaled. Ctrl+C while attached cancels the
/// job: the cancel is one journaled event, so the job is either running or cancelled, never half.
/// </summary>
public static class Submission
{
    public static async Task<int> RunAsync(SubmitOptions options, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        if (string.Equals(options.Encoding, TextEncodings.ListRequest, StringComparison.OrdinalIgnoreCase))
        {
            foreach (var (codePage, name, displayName) in TextEncodings.All()) output.WriteLine($"{name,-24} {codePage,6}  {displayName}");
            return Ok;
        }
        MapReduceSettings settings;
        IReadOnlyList<InputDocument>? documents;
        JobCode? jobCode;
        byte[]? archive = null;
        Encoding encoding;
        InputFormat inputFormat;
        ResultFormat outputFormat;
        try
        {
            settings = MapReduceSettings.From(MapReduceSettings.LoadConfig(options.ConfigFile));
            encoding = TextEncodings.Resolve(options.Encoding);
            inputFormat = InputFormats.Parse(options.InputFormat);
            outputFormat = ResultFormats.Parse(options.OutputFormat);
            (documents, jobCode) = CheckInputs(options, encoding, settings, inputFormat, warning => error.WriteLine($"warning: {warning}"));
            if (jobCode is { Kind: Storage.Blobs.CodeKind.Project })
            {
                // Built before any cluster is involved: a project that does not build is bad input, like a missing folder.
                var building = Stopwatch.StartNew();
                (options.Json || options.Quiet ? TextWriter.Null : options.Detach ? error : output).WriteLine($"building {Path.GetRelativePath(Environment.CurrentDirectory, jobCode.Path)} (Release)...");
                archive = await ProjectBuild.ArchiveAsync(jobCode.Path, ct, settings.Client.BuildTimeout);
                (options.Json || options.Quiet ? TextWriter.Null : options.Detach ? error : output).WriteLine($"built: {archive.Length / 1024.0:0.#} KiB to ship ({building.Elapsed.TotalSeconds:0.0} s)");
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            error.WriteLine("cancelled before the job was submitted; nothing runs");
            return JobCancelled;
        }
        catch (Exception e) when (e is InputException or FileNotFoundException)
        {
            error.WriteLine($"error: {e.Message}");
            return UsageError;
        }

        // Progress is for people: --json and --quiet keep stdout to what a script reads, and with
        // --detach stdout is the job id alone (what is said on the way goes to stderr).
        var talk = options.Json || options.Quiet ? TextWriter.Null : options.Detach ? error : output;
        // Disposed before anything else is printed: a live display must be off the screen first.
        await using var progress = ConsoleProgress.For(talk);
        // A detached job on a local cluster needs the cluster to outlive this command.
        var keep = options.KeepCluster ?? (options.Detach && settings.KeepCluster == TimeSpan.Zero ? settings.LocalWaits.DetachedKeep : null);
        ClusterConnection? cluster = null;
        string? jobId = null;
        InputSample? sample = null;
        try
        {
            if (options.Sample is { } lines && documents is not null)
            {
                // Cut at upload: the dataset stored is the sample, so what the job reads is what was said here.
                sample = InputSample.Take(documents, encoding, lines);
                documents = sample.Documents;
                encoding = TextEncodings.Utf8;
                talk.WriteLine($"sample: the first {lines} line{(lines == 1 ? "" : "s")} of each of {documents.Count} file{(documents.Count == 1 ? "" : "s")}");
            }
            cluster = await ClusterConnection.OpenAsync(new ConnectOptions(options.ClusterUrls, options.StoreFolder, options.ConfigFile,
                options.Workers, options.TasksPerWorker, keep)
            {
                InProcess = options.InProcess,
                DebugScriptPath = jobCode is { Kind: Storage.Blobs.CodeKind.Script } ? jobCode.Path : null,
            }, settings, talk, ct);
            // Never the token: this line lands in scrollback and CI logs. `page` prints the link that opens the page.
            talk.WriteLine($"using {cluster.Description}; status page {cluster.Api.CurrentUrl}{(cluster.Api.Token is null ? "" : $" ({PageHint})")} ({watch.Elapsed.TotalSeconds:0.0} s)");
            var runner = await JobRunner.ConnectAsync(cluster.Api, settings.KvStoreShortCircuit, progress.Report, ct);
            var source = options.DataFolders.Count == 0 ? null : string.Join(", ", options.DataFolders.Select(Path.GetFullPath)) + (options.Sample is { } n ? $" (first {n} lines of each file)" : "");
            var run = new RunJob(documents, source, options.DataId,
                jobCode?.Path, options.CodeId, options.Reducers ?? settings.Reducers, options.BlockSize ?? settings.BlockSize) { Encoding = encoding, CodeArchive = archive, SkipBadRecords = options.SkipBadRecords, InputFormat = inputFormat, Incremental = options.Incremental };
            ct.ThrowIfCancellationRequested();
            // Not cancellable once sent: a job journaled under an id this command never learnt could not be cancelled.
            var submitted = await runner.SubmitAsync(run, CancellationToken.None);
            jobId = submitted.JobId;
            sample?.Dispose();
            if (submitted.Reused) talk.WriteLine($"nothing changed since job {jobId} (--incremental): its result is returned as it is");
            if (options.Detach)
            {
                await progress.DisposeAsync();
                if (options.Json) output.WriteLine(JsonSerializer.Serialize(submitted, PrettyJson));
                else
                {
                    output.WriteLine(submitted.JobId);
                    if (!options.Quiet) error.WriteLine($"job {submitted.JobId} submitted; follow it with `watch {submitted.JobId}`, fetch its result with `download {submitted.JobId} -o OUT`");
                }
                return Ok;
            }

            var jobWatch = Stopwatch.StartNew();
            var end = await runner.FollowAsync(jobId, ct);
            if (end.State != States.Succeeded) await progress.DisposeAsync();
            if (end.State != States.Succeeded)
            {
                error.WriteLine($"error: job {jobId} {end.State}: {end.Error}");
                return end.State == States.Cancelled ? JobCancelled : JobFailed;
            }
            var files = await runner.DownloadAsync(jobId, end.Parts, options.OutputFolder!, ct, outputFormat);
            await progress.DisposeAsync();
            if (options.Json)
            {
                output.WriteLine(JsonSerializer.Serialize(await FinalDetailAsync(cluster.Api, jobId, settings.Client.FinalRecordWait), PrettyJson));
                return Ok;
            }
            output.WriteLine($"job {jobId} succeeded: run and download took {jobWatch.Elapsed.TotalSeconds:0.0} s ({watch.Elapsed.TotalSeconds:0.0} s since start)");
            output.WriteLine($"output: {Path.GetFullPath(options.OutputFolder!)} ({files.Count} parts)");
            if (!options.Quiet)
            {
                output.WriteLine($"reuse without uploading: --data-id {submitted.DataId} --code-id {submitted.CodeId}");
                var detail = await FinalDetailAsync(cluster.Api, jobId, settings.Client.FinalRecordWait);
                // The catalog registers the result dataset before it records the job's end: once this
                // is printed, a job over the result can be submitted (samples/topk, samples/pagerank).
                if (detail.ResultDatasetId is { } result) output.WriteLine($"a job over this result: --data-id {result}");
                StatusCommand.PrintCounters(detail.Counters, output);
            }
            return Ok;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await progress.DisposeAsync();
            if (jobId is null || cluster is null)
            {
                error.WriteLine("cancelled before the job was submitted; nothing runs");
                return JobCancelled;
            }
            error.WriteLine($"Ctrl+C: cancelling job {jobId}");
            var code = await CancelCommand.CancelAsync(cluster.Api, jobId, error, error);
            return code == Ok ? JobCancelled : code;
        }
        catch (ApiException e)
        {
            await progress.DisposeAsync();
            error.WriteLine($"error: {e.Message}");
            return e.Status == System.Net.HttpStatusCode.BadRequest ? JobFailed : ClusterError;
        }
        catch (Actors.BlobClients.KvStoreUnreachableException e)
        {
            // This command's own blob bytes (upload, download) could not reach the kvstore's data channel.
            await progress.DisposeAsync();
            error.WriteLine($"error: {Actors.BlobClients.KvStoreUnreachableException.Advice(e.Message)}");
            return ClusterError;
        }
        catch (Exception e) when (e is TimeoutException or LocalClusterException or Actors.BlobClients.KvStoreException or IOException or InputException or UnauthorizedAccessException)
        {
            await progress.DisposeAsync();
            error.WriteLine($"error: {e.Message}");
            return e is InputException ? UsageError : e is IOException or UnauthorizedAccessException ? JobFailed : ClusterError;
        }
        finally
        {
            sample?.Dispose();
            if (cluster is not null) await cluster.DisposeAsync();
        }
    }

    /// <summary>
    /// The job's record once the catalog shows it ended: the master projects into the catalog every
    /// 100 ms, and the end is projected with (or after) every task's counters (and a job that ended
    /// at once may not be there at all yet). After <paramref name="wait"/> (mapreduce.client.final-record-wait) what is there is taken.
    /// </summary>
    private static async Task<JobDetail> FinalDetailAsync(ClusterApi api, string jobId, TimeSpan wait)
    {
        var started = api.Time.GetTimestamp();
        while (true)
        {
            try
            {
                var detail = await api.JobAsync(jobId, CancellationToken.None);
                if (detail.Job.State != States.Running || api.Time.GetElapsedTime(started) > wait) return detail;
            }
            catch (ApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound && api.Time.GetElapsedTime(started) < wait)
            {
                // A job with nothing to map (only empty files) can end before its first row is projected.
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), api.Time);
        }
    }

    /// <summary>How a person opens the page, said where its address is printed without the token.</summary>
    public const string PageHint = "its link with the token: mapreduce page";

    public static readonly JsonSerializerOptions PrettyJson = new(Json) { WriteIndented = true };

    /// <summary>
    /// Everything that can be checked before a cluster is involved, with messages for the user: the
    /// options, the folders, and every input file read once (<see cref="InputCheck"/>), so that bad
    /// input fails before anything is stored. What is skipped in the input folders goes to <paramref name="warn"/>.
    /// </summary>
    private static (IReadOnlyList<InputDocument>? Documents, JobCode? Code) CheckInputs(SubmitOptions o, Encoding encoding, MapReduceSettings settings, InputFormat format, Action<string> warn)
    {
        if ((o.DataFolders.Count == 0) == (o.DataId is null)) throw new InputException("give the input as --data FOLDER or --data-id ID (exactly one)");
        if ((o.CodeFolder is null) == (o.CodeId is null)) throw new InputException("give the code as --code FOLDER or --code-id ID (exactly one)");
        if (o.OutputFolder is null && !o.Detach) throw new InputException("give the output folder as --output FOLDER (or --detach, and `download` the result later)");
        if (o.OutputFolder is not null && File.Exists(o.OutputFolder)) throw new InputException($"output '{o.OutputFolder}' is a file; give a folder");
        // The master refuses more than its own mapreduce.master.max-reducers; this is the same limit, said before anything is uploaded.
        if (o.Reducers < 1 || o.Reducers > settings.Master.MaxReducers) throw new InputException($"--reducers must be between 1 and {settings.Master.MaxReducers}, not {o.Reducers}");
        if (o.BlockSize is < 1024) throw new InputException($"--block-size must be at least 1024 bytes, not {o.BlockSize}");
        if (o.InProcess && (o.ClusterUrls.Count > 0 || o.Workers is not null || o.KeepCluster is not null || o.Detach))
            throw new InputException("--in-process runs the job in this command's own process: not with --cluster, --workers, --keep-cluster or --detach");
        if (o.Sample is < 1) throw new InputException($"--sample must be at least 1 line, not {o.Sample}");
        if (o.Sample is not null && o.DataFolders.Count == 0) throw new InputException("--sample applies to --data: a stored dataset (--data-id) is used as it is");
        if (o.Encoding is not null && o.DataFolders.Count == 0) throw new InputException("--encoding applies to --data: a stored dataset (--data-id) is already UTF-8");
        if (o.OutputFormat is not null && o.Detach) throw new InputException("--output-format applies to the download: with --detach give it to `download`");
        if (o.InputFormat is not null && o.DataFolders.Count == 0) throw new InputException("--input-format applies to --data: a stored dataset (--data-id) is read in the format it was uploaded with");
        if (format == InputFormat.WholeFile && o.Encoding is not null) throw new InputException("--encoding does not apply to --input-format whole-file: Map gets each file's bytes as they are");
        if (o.Sample is not null && format is InputFormat.Csv or InputFormat.WholeFile)
            throw new InputException($"--sample takes the first lines of each file: not with --input-format {InputFormats.Name(format)}");
        if (o.Incremental && o.Sample is not null) throw new InputException("--incremental does not go with --sample: a sample is a quick check, not a run to build on");

        IReadOnlyList<InputDocument>? documents = null;
        if (o.DataFolders.Count > 0)
        {
            if (o.OutputFolder is not null)
            {
                var output = Path.GetFullPath(o.OutputFolder);
                foreach (var data in o.DataFolders.Select(Path.GetFullPath))
                    if (output == data || output.StartsWith(data.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                        throw new InputException("the output folder must not be inside the input folder (its parts would become input of the next run)");
            }
            documents = InputFolder.List(o.DataFolders, warn);
            if (documents.Count == 0)
                throw new InputException(o.DataFolders.Count == 1 ? $"input folder '{o.DataFolders[0]}' holds no files" : $"input folders {string.Join(", ", o.DataFolders.Select(f => $"'{f}'"))} hold no files");
            InputCheck.Run(documents, encoding, settings.MaxLineSize, format);
        }

        return (documents, o.CodeFolder is null ? null : JobCode.Find(o.CodeFolder));
    }
}
