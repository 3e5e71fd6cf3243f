using MapReduce.Actors.BlobClients;
using MapReduce.Actors.Protocol;
using MapReduce.Submit.Client;
using static MapReduce.Actors.Protocol.ApiModels;

namespace MapReduce.Submit;

/// <summary>
/// `download JOB -o OUT`: a succeeded job's result parts, at any time after the job ended: from
/// the running cluster, or from the store's folder when no cluster runs on it.
/// </summary>
public static class DownloadCommand
{
    public static async Task<int> RunAsync(ClusterOptions o, string id, string outputFolder, TextWriter output, TextWriter error, CancellationToken ct, string? outputFormat = null)
    {
        ResultFormat format;
        try
        {
            format = ResultFormats.Parse(outputFormat);
        }
        catch (Storage.Chunking.InputException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.UsageError;
        }
        if (File.Exists(outputFolder))
        {
            error.WriteLine($"error: output '{outputFolder}' is a file; give a folder");
            return ExitCodes.UsageError;
        }
        if (o.OpenSource(error) is not { } source) return ExitCodes.UsageError;
        return await StatusCommand.Guard(error, async () =>
        {
            if (await source.JobAsync(id, ct) is not { } detail)
            {
                error.WriteLine($"error: no job '{id}' in {source.Description}");
                return ExitCodes.UsageError;
            }
            if (detail.Job.State != States.Succeeded)
            {
                error.WriteLine($"error: job {id} has {(detail.Job.State == States.Running ? "not finished yet (`watch` it)" : $"{detail.Job.State}; it has no result")}");
                return ExitCodes.JobFailed;
            }
            await using var progress = ConsoleProgress.For(output, quiet: o.Json);
            IReadOnlyList<string> files;
            if (source is ApiJobSource api)
                files = await (await JobRunner.ConnectAsync(api.Api, o.Settings.KvStoreShortCircuit, progress.Report, ct)).DownloadAsync(id, detail.Parts, outputFolder, ct, format);
            else if (source is StoreJobSource { Blobs: { } folder })
            {
                // No cluster: the parts are files in the store's folder, read in place.
                var blobs = new BlobClient(new FixedDataChannel(new KvStoreProtocol.DataEndpoint("http://127.0.0.1:0/", folder.Root, folder.StoreId)), _ => { });
                files = await ResultDownload.RunAsync(blobs, id, detail.Parts, outputFolder, progress.Report, ct, format);
            }
            else
            {
                error.WriteLine($"error: {source.Description} holds no blob folder; start the cluster or pass --cluster");
                return ExitCodes.ClusterError;
            }
            await progress.DisposeAsync();
            output.WriteLine($"output: {Path.GetFullPath(outputFolder)} ({files.Count} parts)");
            return ExitCodes.Ok;
        });
    }
}
