using System.Diagnostics;
using MapReduce.Actors.Hosting;
using MapReduce.Node;
using MapReduce.Submit.Client;

namespace MapReduce.Submit;

/// <summary>Where a command finds the cluster: --cluster, else the config's list, else a local cluster on --store.</summary>
public sealed record ConnectOptions(
    IReadOnlyList<string> ClusterUrls,
    string StoreFolder,
    string? ConfigFile,
    int? Workers = null,
    int? TasksPerWorker = null,
    TimeSpan? KeepCluster = null)
{
    /// <summary>--in-process: every role in this process (<see cref="InProcessNode"/>), scripts compiled for a debugger with this task.csx as their source.</summary>
    public bool InProcess { get; init; }

    public string? DebugScriptPath { get; init; }
}

/// <summary>
/// The cluster a command talks to, through its control API: the one named by <c>--cluster</c> (or
/// <c>mapreduce.cluster</c>), else the local cluster already running on the store, else one started
/// for this command. A local cluster started here stops with it, unless it is to be kept: then it
/// runs in a process of its own (<c>MapReduce.Node local --idle-stop</c>) that outlives this one.
/// </summary>
public sealed class ClusterConnection : IAsyncDisposable
{
    private readonly LocalCluster? _local;
    private InProcessNode? _inProcess;

    private ClusterConnection(ClusterApi api, LocalCluster? local, string how)
    {
        Api = api;
        _local = local;
        Description = how;
    }

    public ClusterApi Api { get; }

    /// <summary>One line saying which cluster this is, for the user.</summary>
    public string Description { get; }

    /// <summary>Whether the cluster stops when this command ends (so detaching from a job would lose it).</summary>
    public bool StopsWithCommand => _local is not null || _inProcess is not null;

    /// <summary>The running cluster, or null when none is named and none runs on the store.</summary>
    public static ClusterConnection? Find(ConnectOptions o, MapReduceSettings settings) => Find(o, settings, new ServerCertificateCheck(settings.Tls.ForClient()));

    /// <param name="check">How the masters' HTTPS certificates are judged (the config's CA, read once per command).</param>
    private static ClusterConnection? Find(ConnectOptions o, MapReduceSettings settings, ServerCertificateCheck check)
    {
        var urls = o.ClusterUrls.Count > 0 ? o.ClusterUrls : settings.ClusterUrls;
        var store = Path.GetFullPath(o.StoreFolder);
        var running = StoreLock.RunningCluster(store);
        if (urls.Count > 0)
        {
            // --token (MAPREDUCE_TOKEN) or the config's token; else, for the cluster on --store, the one it recorded.
            var token = settings.Token ?? (running is { Token: { } local } && running.ApiUrls.Intersect(urls).Any() ? local : null);
            return new ClusterConnection(new ClusterApi(urls, token, check, settings.Client), null, $"cluster at {string.Join(", ", urls)}");
        }
        if (running is { ApiUrls.Count: > 0 })
            return new ClusterConnection(new ClusterApi(running.ApiUrls, running.Token, check, settings.Client), null, $"the local cluster running on {store} ({running.ApiUrls[0]})");
        return null;
    }

    /// <summary><see cref="Find"/>, or a local cluster started on the store.</summary>
    public static async Task<ClusterConnection> OpenAsync(ConnectOptions o, MapReduceSettings settings, TextWriter output, CancellationToken ct)
    {
        var check = new ServerCertificateCheck(settings.Tls.ForClient());
        var store = Path.GetFullPath(o.StoreFolder);
        var tasks = o.TasksPerWorker ?? settings.TasksPerWorker;
        if (o.InProcess)
        {
            output.WriteLine($"starting kvstore, master and worker with {tasks} task slots in this process, in {store}");
            var node = await InProcessNode.StartAsync(store, o.ConfigFile, tasks, o.DebugScriptPath, ct);
            return new ClusterConnection(new ClusterApi([node.ApiUrl], node.Token, check, settings.Client), null, $"this process (--in-process) on {store}") { _inProcess = node };
        }
        if (Find(o, settings, check) is { } found) return found;
        var workers = o.Workers ?? settings.LocalWorkers;
        var keep = o.KeepCluster ?? settings.KeepCluster;
        var single = o.Workers is null && settings.LocalSingleProcess;
        var layout = single ? $"one process: kvstore, master and worker with {tasks} task slots" : $"1 kvstore, {settings.LocalMasters} masters, {workers} workers";
        if (keep > TimeSpan.Zero)
        {
            output.WriteLine($"starting a local cluster ({layout}) in {store}; it stops after {Describe(keep)} idle");
            var kept = await StartKeptAsync(store, o.Workers, tasks, o.ConfigFile, keep, settings.LocalWaits.StartTimeout, ct);
            return new ClusterConnection(new ClusterApi(kept.ApiUrls, kept.Token, check, settings.Client), null, $"the local cluster running on {store} ({kept.ApiUrls[0]})");
        }
        output.WriteLine($"starting a local cluster ({layout}) in {store}");
        var local = await LocalCluster.StartAsync(new LocalClusterOptions(store, workers, tasks, 0, o.ConfigFile, settings.LocalMasters, SingleProcess: single), ct);
        return new ClusterConnection(new ClusterApi(local.ApiUrls, local.Token, check, settings.Client), local, $"a local cluster on {store}");
    }

    /// <summary>
    /// Starts <c>MapReduce.Node local</c> in a session of its own (so Ctrl+C here does not reach it)
    /// with its output in the store's logs, and waits until it names its masters' API URLs, for as
    /// long as the cluster waits for its own nodes (mapreduce.local.start-timeout).
    /// </summary>
    private static async Task<RunningLocalCluster> StartKeptAsync(string store, int? workers, int tasks, string? configFile, TimeSpan keep, TimeSpan startTimeout, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.Combine(store, "logs"));
        var log = Path.Combine(store, "logs", "local.log");
        var (host, prefix) = LocalCluster.NodeCommandLine();
        var args = new List<string>(prefix) { "local", "--store", store, "--port", "0", "--tasks-per-worker", tasks.ToString(), "--idle-stop", $"{keep.TotalSeconds:0}s" };
        if (workers is { } count) args.AddRange(["--workers", count.ToString()]);
        if (configFile is not null) args.AddRange(["--config", Path.GetFullPath(configFile)]);
        var command = string.Join(' ', new[] { host }.Concat(args).Select(Quote));
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = store };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"exec setsid {command} >>{Quote(log)} 2>&1 </dev/null");
        using var process = Process.Start(start) ?? throw new LocalClusterException("could not start MapReduce.Node local");
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < startTimeout)
        {
            if (StoreLock.RunningCluster(store) is { ApiUrls.Count: > 0 } running) return running;
            if (process.HasExited) throw new LocalClusterException($"the local cluster exited with code {process.ExitCode} before it was up; see {log}");
            await Task.Delay(50, ct);
        }
        throw new LocalClusterException($"the local cluster did not come up within {Describe(startTimeout)}; see {log}");

        static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
    }

    public static string Describe(TimeSpan t) => t.TotalHours >= 1 && t.TotalHours == Math.Floor(t.TotalHours) ? $"{t.TotalHours:0} h"
        : t.TotalMinutes >= 1 && t.TotalMinutes == Math.Floor(t.TotalMinutes) ? $"{t.TotalMinutes:0} min" : $"{t.TotalSeconds:0} s";

    public async ValueTask DisposeAsync()
    {
        if (_local is not null) await _local.DisposeAsync();
        if (_inProcess is not null) await _inProcess.DisposeAsync();
    }
}
