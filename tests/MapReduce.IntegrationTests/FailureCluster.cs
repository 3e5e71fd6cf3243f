using MapReduce.Actors.Hosting;
using MapReduce.Node;
using MapReduce.Storage.Catalog;

namespace MapReduce.IntegrationTests;

/// <summary>
/// A cluster whose nodes the test starts, kills (SIGKILL, by PID) and restarts one by one: a
/// kvstore, two masters (master-1 started first, so it hosts the singleton) and workers.
/// </summary>
public sealed class FailureCluster : IAsyncDisposable
{
    private readonly LocalCluster _cluster;
    private readonly Dictionary<string, NodeProcess> _nodes = new();

    private readonly SqlLocation _catalog;

    private FailureCluster(LocalCluster cluster, string work, SqlLocation catalog)
    {
        _cluster = cluster;
        Work = work;
        _catalog = catalog;
    }

    public string Work { get; }
    public string Store => _cluster.StoreFolder;
    public string Seed => _cluster.Seed;

    /// <summary>The masters' control API URLs, comma-separated, as --cluster takes them.</summary>
    public string Api => string.Join(',', _cluster.ApiUrls);
    public string Gates => Path.Combine(Work, "gates");
    public CatalogStore Catalog => new(_catalog);

    /// <summary>Starts the nodes; <paramref name="catalog"/> and <paramref name="journal"/> as for --catalog/--journal (default: SQLite files in the store).</summary>
    /// <param name="config">Writes the nodes' --config file into the work folder it is given, before they start; null: none.</param>
    public static async Task<FailureCluster> StartAsync(int workers, string? catalog = null, string? journal = null, Func<string, string>? config = null)
    {
        var work = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", Guid.NewGuid().ToString("N"))).FullName;
        Directory.CreateDirectory(Path.Combine(work, "gates"));
        var store = Path.Combine(work, "store");
        var options = new LocalClusterOptions(store, workers, 2, ConfigFile: config?.Invoke(work), Catalog: catalog, Journal: journal);
        var cluster = new FailureCluster(LocalCluster.Create(options), work, SqlLocation.Parse(catalog ?? Path.Combine(store, "catalog.db")));
        await cluster.StartNodeAsync("kvstore", NodeRoles.KvStore, cluster._cluster.SeedPort);
        await cluster.StartNodeAsync("master-1", NodeRoles.Master);
        await Task.WhenAll(new[] { cluster.StartNodeAsync("master-2", NodeRoles.Master) }
            .Concat(Enumerable.Range(1, workers).Select(i => cluster.StartNodeAsync($"worker-{i}", NodeRoles.Worker))));
        return cluster;
    }

    public async Task StartNodeAsync(string name, string role, int port = 0)
    {
        var node = _cluster.Launch(name, role, port);
        _nodes[name] = node;
        await _cluster.WaitReadyAsync([node], TimeSpan.FromSeconds(90));
    }

    /// <summary>
    /// Starts the kvstore again, on the seed port and the same folder, with the running masters'
    /// addresses among its seeds: seeded by itself alone it would start a cluster of its own.
    /// </summary>
    public async Task RestartKvStoreAsync() => _nodes["kvstore"] = await _cluster.RestartKvStoreAsync(TimeSpan.FromSeconds(90));

    /// <summary>Starts a node again without waiting for it to join: under a crash soak it may die (by design) before it reports ready.</summary>
    public void Relaunch(string name, string role) => _nodes[name] = _cluster.Launch(name, role);

    public NodeProcess Node(string name) => _nodes[name];

    public void Kill(string name) => LocalCluster.Kill(_nodes[name]);

    public void Open(string gate) => File.WriteAllText(Path.Combine(Gates, gate), "");

    /// <summary>A script that counts words like samples/wordcount, but whose Map and Reduce wait until the test opens their gate.</summary>
    public string GatedWordCount() => WriteGatedWordCount("gated", "");

    /// <summary>The sample books' word count, computed independently: what every gated job must write.</summary>
    public static readonly SortedSet<string> SampleWordCount = Oracle.WordCount(Cli.Samples("data"));

    /// <summary>Submits <see cref="GatedWordCount"/> over the sample books in 128 KiB chunks, to 4 reducers, writing to <paramref name="output"/>.</summary>
    public Task<CliResult> SubmitGatedAsync(string output) =>
        Cli.SubmitAsync("-d", Cli.Samples("data"), "-c", GatedWordCount(), "-o", output, "--cluster", Api, "--block-size", "131072", "--reducers", "4");

    /// <summary>Waits for the submit and checks that it succeeded with exactly <see cref="SampleWordCount"/>.</summary>
    public static async Task<CliResult> AssertExactOutputAsync(Task<CliResult> submit, string output, Xunit.Abstractions.ITestOutputHelper log)
    {
        var result = await submit;
        log.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(SampleWordCount, Oracle.ReadParts(output, 4));
        return result;
    }

    /// <summary>
    /// Like <see cref="GatedWordCount"/>, but Map waits on the "map" gate only for documents whose
    /// name sorts after <paramref name="after"/>: the maps of the other documents finish at once.
    /// </summary>
    public string PartlyGatedWordCount(string after) => WriteGatedWordCount("partly-gated", after);

    private string WriteGatedWordCount(string name, string after)
    {
        var folder = Directory.CreateDirectory(Path.Combine(Work, name)).FullName;
        File.WriteAllText(Path.Combine(folder, "task.csx"), $$"""
            using System.Threading;
            static readonly string Gates = @"{{Gates}}";
            static void Wait(string gate) { while (!File.Exists(Path.Combine(Gates, gate))) Thread.Sleep(50); }

            IEnumerable<(string, int)> Map(string docId, string chunk)
            {
                if (string.CompareOrdinal(docId, "{{after}}") > 0) Wait("map");
                foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(chunk, @"\p{L}+"))
                    yield return (m.Value, 1);
            }

            int Reduce(string word, IEnumerable<int> counts)
            {
                Wait("reduce");
                return counts.Sum();
            }
            """);
        return folder;
    }

    /// <summary>SIGKILLs every node process at once and waits until none of them (nor any other node process on this store) runs.</summary>
    public async Task KillAllAsync(TimeSpan timeout)
    {
        var nodes = _nodes.Values.ToList();
        foreach (var node in nodes) LocalCluster.Kill(node);
        using var cts = new CancellationTokenSource(timeout);
        foreach (var node in nodes) await node.Process.WaitForExitAsync(cts.Token);
        await Cli.EventuallyAsync(() => Cli.NodeProcessesUsing(Store).Count == 0, timeout, "node processes still running after SIGKILL");
    }

    /// <summary>Starts every node again under its old name, on the same store: the kvstore on the seed port first, then master-1, then the rest.</summary>
    public async Task RestartAllAsync()
    {
        var others = _nodes.Values.Where(n => n.Name is not ("kvstore" or "master-1")).Select(n => (n.Name, n.Roles)).ToList();
        await StartNodeAsync("kvstore", NodeRoles.KvStore, _cluster.SeedPort);
        await StartNodeAsync("master-1", NodeRoles.Master);
        await Task.WhenAll(others.Select(n => StartNodeAsync(n.Name, n.Roles)));
    }

    /// <summary>Waits until the catalog shows at least <paramref name="count"/> attempts of a kind running.</summary>
    public async Task WaitRunningAsync(string execType, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var jobs = Catalog.ListJobs();
            if (jobs.Count > 0)
            {
                var running = Catalog.GetExecutions(jobs[^1].ExecId).Count(e => e.ExecType == execType && e.Status == ExecutionStatus.Running);
                if (running >= count) return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"fewer than {count} {execType} attempts running after {timeout}");
    }

    /// <summary>Waits until the named master's log shows a recovered job master; returns when that happened.</summary>
    public async Task<DateTime> WaitMasterRecoveredAsync(string name, TimeSpan timeout)
    {
        var log = _nodes[name].LogFile;
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            string text;
            using (var reader = new StreamReader(new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))) text = await reader.ReadToEndAsync();
            if (text.Contains("job master recovered")) return DateTime.UtcNow;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{name} did not take over the job master within {timeout}");
    }

    public async ValueTask DisposeAsync()
    {
        await _cluster.DisposeAsync();
        try { await Cli.AssertNoNodeProcessesLeftAsync(Store); }
        finally
        {
            try { Directory.Delete(Work, recursive: true); } catch (IOException) { }
        }
    }
}
