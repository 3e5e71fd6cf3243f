using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using MapReduce.Actors.Hosting;
using MapReduce.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MapReduce.Node;

/// <summary>Runs one cluster node until Ctrl+C, SIGTERM, or the death of the process that started it.</summary>
public static class NodeHost
{
    /// <summary>Printed on stdout once the node is Up in the cluster; local mode waits for it.</summary>
    public const string ReadyLine = "MAPREDUCE-NODE-READY";

    /// <summary>Exit code of a node the cluster refused (its journal or catalog is not the cluster's): starting it again as it is cannot help.</summary>
    public const int RefusedExitCode = 5;

    /// <summary>
    /// Exit code of a node that the cluster downed (the split-brain resolver, after a partition or
    /// a long pause): not a clean stop, so a supervisor that restarts failed processes starts it
    /// again, and it joins as a new node (EX_UNAVAILABLE of sysexits.h).
    /// </summary>
    public const int DownedExitCode = 69;

    /// <summary>Exit code of a node that cannot use the configured blob store (with kind = s3: no such bucket, credentials refused, endpoint not answering).</summary>
    public const int BlobStoreUnusableExitCode = 6;

    public static async Task<int> RunAsync(ClusterNodeOptions node, string? configFile, int? parentPid, CancellationToken ct)
    {
        var config = MapReduceSettings.LoadConfig(configFile);
        var settings = MapReduceSettings.From(config);
        NodeConsole.Format = settings.LogFormat;
        // Before anything starts: a bucket that is missing or refuses the credentials would
        // otherwise surface only inside the first job.
        if (await BlobBackends.ProblemAsync(settings.BlobStore, ct) is { } unusable)
        {
            NodeConsole.Error($"error: {unusable}");
            return BlobStoreUnusableExitCode;
        }
        var builder = Host.CreateApplicationBuilder(HostWithoutDefaults.Settings());
        builder.Logging.ClearProviders();
        if (settings.LogFormat == NodeLogFormat.Json) builder.Logging.AddProvider(new JsonConsoleLoggerProvider());
        else builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // The host would log a failed start with its stack trace; RunAsync reports a known cause in
        // one line, and anything else still escapes with its stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        string? refusal = null;
        IHostApplicationLifetime? stopping = null;
        var servers = new NodeServers();
        builder.Services.AddAkka(AkkaSetup.SystemName, (akka, _) => AkkaSetup.Configure(akka, node, config, settings, reason =>
        {
            // One line saying what to set; the node then leaves. It held no singleton (an older
            // master exists), so it wrote nothing to the journal.
            refusal = reason;
            NodeConsole.Error($"error: {reason}");
            stopping?.StopApplication();
        }, servers));
        using var host = builder.Build();
        stopping = host.Services.GetRequiredService<IHostApplicationLifetime>();
        try
        {
            await host.StartAsync(ct);
        }
        catch (StoreInUseException e)
        {
            NodeConsole.Error($"error: {e.Message}");
            return 3;
        }

        var system = host.Services.GetRequiredService<ActorSystem>();
        var cluster = Cluster.Get(system);
        cluster.RegisterOnMemberUp(() =>
            NodeConsole.Info($"{ReadyLine} roles={string.Join(',', node.Roles)} address={cluster.SelfAddress}{(servers.ControlApi is { } api ? $" api={api}" : "")}"));
        if (servers.ControlApi is { } server) NodeConsole.Info($"control API and status page: {server}");
        if (servers.Health is { } health) NodeConsole.Info($"health: {health}healthz {health}readyz");
        NodeConsole.Info($"node {cluster.SelfAddress} starting with roles {string.Join(',', node.Roles)}; seeds: {string.Join(' ', node.Seeds.Select(seed => SeedAddress.For(seed, node.Tls is not null)))}{(node.Tls is { } tls ? $"; TLS with {tls.Certificate.Subject}, peers must chain to {tls.Trust.Source}" : "")}");

        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        // Local mode stops every node at once: nobody would stay to see a graceful leave (each node
        // waited out its 5 s cluster-exiting timeout), so each node downs the whole cluster instead.
        // Only a node local mode started listens: a stray signal must not down a real cluster.
        var stoppingCluster = false;
        using var clusterStop = parentPid is null ? null : ProcessSignals.OnClusterStop(() =>
        {
            stoppingCluster = true;
            // Not in the cluster yet: nothing to down. Already downed by another node: shutting down.
            if (!cluster.State.Members.Any(m => m.Address == cluster.SelfAddress)) lifetime.StopApplication();
            else foreach (var member in cluster.State.Members) cluster.Down(member.Address);
        });
        if (parentPid is { } pid) _ = WatchParentAsync(pid, lifetime);
        // Leaving the cluster (downed, or SIGTERM through coordinated shutdown) ends the process.
        _ = system.WhenTerminated.ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
        await host.WaitForShutdownAsync(ct);
        if (refusal is not null) return RefusedExitCode;
        if (!stoppingCluster && CoordinatedShutdown.Get(system).ShutdownReason is CoordinatedShutdown.ClusterDowningReason)
        {
            NodeConsole.Error($"error: node {cluster.SelfAddress} was downed by the cluster (cut off, or silent too long); exiting with code {DownedExitCode} so that its supervisor starts it again");
            return DownedExitCode;
        }
        return 0;
    }

    /// <summary>A node started for a local-mode run stops when its parent is gone, even if the parent was killed.</summary>
    private static async Task WatchParentAsync(int pid, IHostApplicationLifetime lifetime)
    {
        while (!lifetime.ApplicationStopping.IsCancellationRequested)
        {
            if (!ProcessAlive(pid))
            {
                NodeConsole.Info($"parent process {pid} is gone; stopping");
                lifetime.StopApplication();
                return;
            }
            await Task.Delay(500);
        }
    }

    private static bool ProcessAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
