using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Hosting;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.KvStore;
using MapReduce.Actors.Master;
using MapReduce.Actors.Submitter;
using MapReduce.Storage.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using static MapReduce.Actors.Submitter.SubmitterProtocol;

namespace MapReduce.Submit;

/// <summary>
/// This process as a member of the cluster with role submitter: joins through the seeds, then runs
/// jobs one submitter actor each. The CLI runs one job; the benchmark runs several on one node.
/// </summary>
public sealed class SubmitterNode : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly ActorSystem _system;
    private readonly BlobClient _blobs;
    private readonly IActorRef _master;
    private int _jobs;

    private SubmitterNode(IHost host, bool shortCircuit)
    {
        _host = host;
        _system = host.Services.GetRequiredService<ActorSystem>();
        _blobs = new BlobClient(_system, new KvStoreLocator(_system), shortCircuit);
        _master = host.Services.GetRequiredService<ActorRegistry>().Get<JobMasterKey>();
    }

    /// <summary>Starts the node and waits until it is Up in the cluster (a TimeoutException after 30 s).</summary>
    public static async Task<SubmitterNode> JoinAsync(IReadOnlyList<string> seeds, string storeFolder, Config config, MapReduceSettings settings, CancellationToken ct)
    {
        var node = new ClusterNodeOptions([NodeRoles.Submitter], "127.0.0.1", 0, seeds, storeFolder,
            SqlLocation.SqliteFile(Path.Combine(storeFolder, "catalog.db")), SqlLocation.SqliteFile(Path.Combine(storeFolder, "journal.db")), 0);
        // The CLI's own node logs nothing: its output is for the user; the cluster's view of trouble is in the node logs.
        var quiet = ConfigurationFactory.ParseString("akka.loglevel = OFF\nakka.stdout-loglevel = OFF").WithFallback(config);
        var builder = Host.CreateApplicationBuilder(HostWithoutDefaults.Settings());
        builder.Logging.ClearProviders();
        builder.Services.AddAkka(AkkaSetup.SystemName, (akka, _) => AkkaSetup.Configure(akka, node, quiet, settings));
        var host = builder.Build();
        await host.StartAsync(ct);
        try
        {
            await WaitUpAsync(host.Services.GetRequiredService<ActorSystem>(), seeds, ct);
            return new SubmitterNode(host, settings.KvStoreShortCircuit);
        }
        catch
        {
            await host.StopAsync(CancellationToken.None);
            host.Dispose();
            throw;
        }
    }

    /// <summary>Runs one job from upload to download; what happens on the way goes to <paramref name="report"/>.</summary>
    public Task<JobOutcome> RunAsync(RunJob job, Action<Progress> report, CancellationToken ct)
    {
        var submitter = _system.ActorOf(SubmitterActor.Props(_master, _blobs, report), $"submitter-{Interlocked.Increment(ref _jobs)}");
        return submitter.Ask<JobOutcome>(job, Timeout.InfiniteTimeSpan, ct);
    }

    /// <summary>Asks the master to delete a stored dataset; the answer is <see cref="MasterProtocol.DatasetDeleted"/> or <see cref="MasterProtocol.DeleteRejected"/>.</summary>
    public Task<object> DeleteDatasetAsync(string dirId, CancellationToken ct) =>
        _master.Ask<object>(new MasterProtocol.DeleteDataset(dirId), DeleteTimeout, ct);

    /// <summary>Longer than the master's own waits for the kvstore, so its answer arrives rather than a timeout here.</summary>
    public static readonly TimeSpan DeleteTimeout = TimeSpan.FromSeconds(90);

    private static async Task WaitUpAsync(ActorSystem system, IReadOnlyList<string> seeds, CancellationToken ct)
    {
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        var timeout = TimeSpan.FromSeconds(30);
        if (await Task.WhenAny(up.Task, Task.Delay(timeout, ct)) != up.Task)
        {
            ct.ThrowIfCancellationRequested();
            throw new TimeoutException($"could not join the cluster at {string.Join(", ", seeds)} within {timeout.TotalSeconds:0} s");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(CancellationToken.None);
        _host.Dispose();
    }
}
