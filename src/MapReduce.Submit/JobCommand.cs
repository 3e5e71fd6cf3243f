using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Hosting;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.KvStore;
using MapReduce.Actors.Submitter;
using MapReduce.Actors.UserCode;
using MapReduce.Node;
using MapReduce.Storage.Catalog;
using MapReduce.Storage.Chunking;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using static MapReduce.Actors.Submitter.SubmitterProtocol;

namespace MapReduce.Submit;

public sealed record JobOptions(
    string? DataFolder,
    string? DataId,
    string? CodeFolder,
    string? CodeId,
    string OutputFolder,
    int? Reducers,
    IReadOnlyList<string> Seeds,
    string StoreFolder,
    int? Workers,
    int? TasksPerWorker,
    string? ConfigFile,
    int? BlockSize = null);

/// <summary>
/// Runs one job: checks the user's folders, starts a local cluster when no seed is given, joins
/// the cluster as a submitter node and lets the submitter actor do the rest.
/// </summary>
public static class JobCommand
{
    public const int Ok = 0;
    public const int JobFailed = 1;
    public const int UsageError = 2;
    public const int ClusterError = 3;

    public static async Task<int> RunAsync(JobOptions options, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        Config config;
        MapReduceSettings settings;
        IReadOnlyList<InputDocument>? documents;
        string? codeFile;
        try
        {
            config = MapReduceSettings.LoadConfig(options.ConfigFile);
            settings = MapReduceSettings.From(config);
            (documents, codeFile) = CheckInputs(options);
        }
        catch (Exception e) when (e is InputException or FileNotFoundException)
        {
            error.WriteLine($"error: {e.Message}");
            return UsageError;
        }

        var progress = new ConsoleProgress(output);
        LocalCluster? local = null;
        SubmitterNode? node = null;
        try
        {
            var seeds = options.Seeds;
            if (seeds.Count == 0)
            {
                var workers = options.Workers ?? settings.LocalWorkers;
                output.WriteLine($"starting a local cluster (1 kvstore, {settings.LocalMasters} masters, {workers} workers) in {Path.GetFullPath(options.StoreFolder)}");
                local = await LocalCluster.StartAsync(new LocalClusterOptions(options.StoreFolder, workers,
                    options.TasksPerWorker ?? settings.TasksPerWorker, 0, options.ConfigFile, settings.LocalMasters), ct);
                seeds = [local.Seed];
                output.WriteLine($"cluster is up ({watch.Elapsed.TotalSeconds:0.0} s)");
            }

            node = await SubmitterNode.JoinAsync(seeds, options.StoreFolder, config, settings, ct);
            var run = new RunJob(documents, options.DataFolder is null ? null : Path.GetFullPath(options.DataFolder), options.DataId,
                codeFile, options.CodeId, options.OutputFolder, options.Reducers ?? settings.Reducers, options.BlockSize ?? settings.BlockSize);
            var jobWatch = Stopwatch.StartNew();
            var outcome = await node.RunAsync(run, progress.Report, ct);
            // Reported as soon as the output is written; leaving the cluster (a few seconds) comes after.
            if (!outcome.Succeeded)
            {
                error.WriteLine($"error: {outcome.Message}");
                return JobFailed;
            }
            output.WriteLine($"job {outcome.ExecId} succeeded: upload, run and download took {jobWatch.Elapsed.TotalSeconds:0.0} s ({watch.Elapsed.TotalSeconds:0.0} s since start)");
            output.WriteLine($"output: {Path.GetFullPath(options.OutputFolder)} ({outcome.OutputFiles.Count} parts)");
            output.WriteLine($"reuse without uploading: --data-id {outcome.DataId} --code-id {outcome.CodeId}");
            return Ok;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("cancelled");
            return JobFailed;
        }
        catch (TimeoutException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ClusterError;
        }
        catch (LocalClusterException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ClusterError;
        }
        finally
        {
            // Leaving and stopping a local cluster both wait on cluster gossip: at once, not one after the other.
            await Task.WhenAll(node is null ? Task.CompletedTask : node.DisposeAsync().AsTask(),
                local is null ? Task.CompletedTask : local.DisposeAsync().AsTask());
        }
    }

    /// <summary>Everything that can be checked before a cluster is involved, with messages for the user.</summary>
    private static (IReadOnlyList<InputDocument>? Documents, string? CodeFile) CheckInputs(JobOptions o)
    {
        if ((o.DataFolder is null) == (o.DataId is null)) throw new InputException("give the input as --data FOLDER or --data-id ID (exactly one)");
        if ((o.CodeFolder is null) == (o.CodeId is null)) throw new InputException("give the code as --code FOLDER or --code-id ID (exactly one)");
        if (File.Exists(o.OutputFolder)) throw new InputException($"output '{o.OutputFolder}' is a file; give a folder");
        if (o.Reducers is < 1 or > 10_000) throw new InputException($"--reducers must be between 1 and 10000, not {o.Reducers}");
        if (o.BlockSize is < 1024) throw new InputException($"--block-size must be at least 1024 bytes, not {o.BlockSize}");

        IReadOnlyList<InputDocument>? documents = null;
        if (o.DataFolder is not null)
        {
            var data = Path.GetFullPath(o.DataFolder);
            var output = Path.GetFullPath(o.OutputFolder);
            if (output == data || output.StartsWith(data.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new InputException("the output folder must not be inside the input folder (its parts would become input of the next run)");
            documents = InputFolder.List(o.DataFolder);
            if (documents.Count == 0) throw new InputException($"input folder '{o.DataFolder}' holds no files");
        }

        string? codeFile = null;
        if (o.CodeFolder is not null)
        {
            if (!Directory.Exists(o.CodeFolder)) throw new InputException($"code folder '{o.CodeFolder}' does not exist");
            codeFile = Path.Combine(o.CodeFolder, ScriptCompiler.ScriptFileName);
            if (!File.Exists(codeFile)) throw new InputException($"code folder '{o.CodeFolder}' has no {ScriptCompiler.ScriptFileName}");
        }
        return (documents, codeFile);
    }
}
