using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using MapReduce.Actors.Hosting;
using MapReduce.Storage.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MapReduce.Node;

/// <summary>
/// The CLI's <c>--in-process</c>: one node with every role (kvstore, master, worker) inside the
/// calling process, the same actors and servers as a node process, on free ports of 127.0.0.1, with
/// scripts compiled for a debugger (<see cref="ClusterNodeOptions.DebugScriptPath"/>), so a
/// breakpoint in task.csx stops in the IDE that launched the CLI. Disposing it stops the node: no
/// process is left behind, because none was started.
/// </summary>
public sealed class InProcessNode : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly StoreLock _storeLock;

    private InProcessNode(IHost host, StoreLock storeLock, Uri api, string token)
    {
        _host = host;
        _storeLock = storeLock;
        ApiUrl = api.ToString();
        Token = token;
    }

    /// <summary>The node's control API, which the CLI talks to as to any master.</summary>
    public string ApiUrl { get; }

    public string Token { get; }

    public static async Task<InProcessNode> StartAsync(string storeFolder, string? configFile, int tasksPerWorker, string? debugScriptPath, CancellationToken ct)
    {
        var store = Path.GetFullPath(storeFolder);
        var port = LocalCluster.FreePort();
        var seed = $"akka.tcp://{AkkaSetup.SystemName}@127.0.0.1:{port}";
        // The node reads the token from its settings, where MAPREDUCE_TOKEN wins: this process is the node.
        var token = ClusterToken.From(null) ?? ClusterToken.New();
        Environment.SetEnvironmentVariable(ClusterToken.EnvironmentVariable, token);
        // The terminal is the user's: a node process's INFO lines go to its log file, here they would
        // bury the job's progress (and the expected warnings of a node downing itself on exit).
        var config = Akka.Configuration.ConfigurationFactory.ParseString("akka.loglevel = ERROR\nakka.log-dead-letters = off")
            .WithFallback(MapReduceSettings.LoadConfig(configFile));
        var settings = MapReduceSettings.From(config);
        var storeLock = StoreLock.Acquire(store, seed, token);
        try
        {
            var node = new ClusterNodeOptions(
                [NodeRoles.KvStore, NodeRoles.Master, NodeRoles.Worker], "127.0.0.1", port, [seed], store,
                SqlLocation.Parse(settings.Catalog ?? Path.Combine(store, "catalog.db")),
                SqlLocation.Parse(settings.Journal ?? Path.Combine(store, "journal.db")),
                tasksPerWorker, LocalCluster.FreePort())
            {
                Tls = settings.Tls.ForNode(),
                DebugScriptPath = debugScriptPath is null ? null : Path.GetFullPath(debugScriptPath),
            };
            var builder = Host.CreateApplicationBuilder(HostWithoutDefaults.Settings());
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            string? refusal = null;
            var servers = new NodeServers();
            builder.Services.AddAkka(AkkaSetup.SystemName, (akka, _) => AkkaSetup.Configure(akka, node, config, settings, reason => refusal = reason, servers));
            var host = builder.Build();
            try
            {
                await host.StartAsync(ct);
                var system = host.Services.GetRequiredService<ActorSystem>();
                var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
                // One process joining itself (--in-process, for a debugger): no other node to wait for, so not mapreduce.local.start-timeout.
                await up.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);
                if (refusal is not null) throw new LocalClusterException(refusal);
                var api = servers.ControlApi ?? throw new LocalClusterException("the in-process node serves no control API");
                storeLock.Describe(seed, token, [api.ToString()]);
                return new InProcessNode(host, storeLock, api, token);
            }
            catch
            {
                await StopAsync(host);
                throw;
            }
        }
        catch
        {
            storeLock.Dispose();
            throw;
        }
    }

    private static async Task StopAsync(IHost host)
    {
        // Nobody stays in this cluster to hand work to: down it rather than wait out a graceful leave.
        // The bounds below only keep a debugging session from hanging on exit: not waits anyone sizes.
        if (host.Services.GetService<ActorSystem>() is { } system)
        {
            var cluster = Cluster.Get(system);
            cluster.Down(cluster.SelfAddress);
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        await host.StopAsync(TimeSpan.FromSeconds(10));
        host.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(_host);
        _storeLock.Dispose();
    }
}
