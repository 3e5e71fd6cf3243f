using System.CommandLine;
using MapReduce.Actors.Hosting;
using MapReduce.Node;
using MapReduce.Storage.Catalog;

// MapReduce.Node: one cluster node with the given roles, or `local`: a whole cluster of node processes on this machine.
var roles = new Option<string[]>("--role", "-r")
{
    Description = "Roles of this node: kvstore, master, worker (repeat the flag or separate with commas)",
    Required = true,
    AllowMultipleArgumentsPerToken = false,
};
var host = new Option<string>("--host") { Description = "Address to bind and advertise", DefaultValueFactory = _ => "127.0.0.1" };
var port = new Option<int>("--port", "-p") { Description = "Port to listen on (0 picks a free one)", DefaultValueFactory = _ => 0 };
var seeds = new Option<string[]>("--seed") { Description = "Seed node address, e.g. akka.tcp://mapreduce@127.0.0.1:4053 (repeatable; default from hocon/mapreduce.hocon)" };
var tasksPerWorker = new Option<int?>("--tasks-per-worker") { Description = "Tasks a worker runs at once (default from hocon: 2)" };
var dataDir = new Option<DirectoryInfo>("--data-dir") { Description = "Folder for this node's blobs, scratch files and default databases", DefaultValueFactory = _ => new DirectoryInfo(".mapreduce") };
var catalog = new Option<string?>("--catalog") { Description = "Catalog database: a SQLite file path, or a PostgreSQL connection string (postgres:Host=...); default mapreduce.catalog, else DATA-DIR/catalog.db" };
var journal = new Option<string?>("--journal") { Description = "Master journal database: a SQLite file path, or a PostgreSQL connection string; default mapreduce.journal, else DATA-DIR/journal.db" };
var config = new Option<FileInfo?>("--config") { Description = "Extra HOCON file, layered over hocon/mapreduce.hocon" };
var httpPort = new Option<int?>("--http-port") { Description = "Master nodes: port of the control API and status page (default from hocon: 4080; 0 picks a free one)" };
var healthPort = new Option<int?>("--health-port") { Description = "Serve GET /healthz and /readyz on this port (0 picks a free one; default from hocon: off, mapreduce.health)" };
var parentPid = new Option<int?>("--parent-pid") { Description = "Stop when this process exits (set by local mode)", Hidden = true };

var root = new RootCommand("MapReduce.NET cluster node")
{
    roles, host, port, seeds, tasksPerWorker, dataDir, catalog, journal, config, httpPort, healthPort, parentPid,
};
root.SetAction(async (parse, ct) =>
{
    var cfg = MapReduceSettings.LoadConfig(parse.GetValue(config)?.FullName);
    var settings = MapReduceSettings.From(cfg);
    var roleList = (parse.GetValue(roles) ?? []).SelectMany(r => r.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct().ToList();
    var unknown = roleList.Where(r => !NodeRoles.Servable.Contains(r)).ToList();
    if (unknown.Count > 0 || roleList.Count == 0)
    {
        Console.Error.WriteLine($"error: unknown role '{string.Join(", ", unknown)}'; use kvstore, master and/or worker");
        return 2;
    }
    var data = parse.GetValue(dataDir)!.FullName;
    var seedList = parse.GetValue(seeds) is { Length: > 0 } given ? given : settings.SeedNodes.ToArray();
    var node = new ClusterNodeOptions(
        roleList, parse.GetValue(host)!, parse.GetValue(port), seedList, data,
        SqlLocation.Parse(parse.GetValue(catalog) ?? settings.Catalog ?? Path.Combine(data, "catalog.db")),
        SqlLocation.Parse(parse.GetValue(journal) ?? settings.Journal ?? Path.Combine(data, "journal.db")),
        parse.GetValue(tasksPerWorker) ?? settings.TasksPerWorker,
        parse.GetValue(httpPort) ?? settings.HttpPort)
    {
        HealthPort = parse.GetValue(healthPort) ?? settings.HealthPort,
        Tls = settings.Tls.ForNode(),
    };
    if (node.TasksPerWorker < 1)
    {
        Console.Error.WriteLine("error: --tasks-per-worker must be at least 1");
        return 2;
    }
    return await NodeHost.RunAsync(node, parse.GetValue(config)?.FullName, parse.GetValue(parentPid), ct);
});

var workers = new Option<int?>("--workers", "-w") { Description = "Worker processes to start, beside a kvstore and the masters (without it: one process with every role, or as mapreduce.local says)" };
var store = new Option<DirectoryInfo>("--store") { Description = "Folder shared by the local nodes: blobs, catalog, journal, logs", DefaultValueFactory = _ => new DirectoryInfo(".mapreduce") };
var seedPort = new Option<int>("--port", "-p") { Description = "Port of the seed (kvstore) node", DefaultValueFactory = _ => 4053 };
var idleStop = new Option<TimeSpan?>("--idle-stop") { Description = "Stop the cluster once no job has run and no client asked anything for this long, e.g. 10m (default: run until Ctrl+C)", CustomParser = r => Durations.Parse(r) };
var local = new Command("local", "Start a kvstore, masters and workers as separate processes on this machine; Ctrl+C stops them all")
{
    workers, store, seedPort, tasksPerWorker, config, idleStop,
};
local.SetAction(async (parse, ct) =>
{
    var settings = MapReduceSettings.From(MapReduceSettings.LoadConfig(parse.GetValue(config)?.FullName));
    if (await BlobBackends.ProblemAsync(settings.BlobStore, ct) is { } unusable)
    {
        Console.Error.WriteLine($"error: {unusable}");
        return NodeHost.BlobStoreUnusableExitCode;
    }
    var options = new LocalClusterOptions(parse.GetValue(store)!.FullName, parse.GetValue(workers) ?? settings.LocalWorkers,
        parse.GetValue(tasksPerWorker) ?? settings.TasksPerWorker, parse.GetValue(seedPort), parse.GetValue(config)?.FullName, settings.LocalMasters,
        SingleProcess: parse.GetValue(workers) is null && settings.LocalSingleProcess);
    Console.WriteLine(options.SingleProcess
        ? $"starting a local cluster: one process with every role, {options.TasksPerWorker} task slots; store {options.StoreFolder}"
        : $"starting a local cluster: 1 kvstore, {options.Masters} masters, {options.Workers} workers; store {options.StoreFolder}");
    await using var cluster = await LocalCluster.StartAsync(options, ct);
    Console.WriteLine($"cluster is up; seed {cluster.Seed}");
    Console.WriteLine($"status page and control API: {string.Join(" ", cluster.ApiUrls)}");
    // Not the link with the token: this output may go to a log file (a kept cluster's STORE/logs/local.log).
    Console.WriteLine($"status page in a browser: the link that `mapreduce page --store {options.StoreFolder}` prints (it carries the cluster token)");
    Console.WriteLine($"submit with: dotnet run --project src/MapReduce.Submit -- -d DATA -c CODE -o OUT --store {options.StoreFolder}");
    Console.WriteLine(parse.GetValue(idleStop) is { } limit ? $"stopping after {limit.TotalSeconds:0} s idle, or on Ctrl+C" : "press Ctrl+C to stop");
    try
    {
        if (parse.GetValue(idleStop) is { } idle)
        {
            await IdleStop.WaitAsync(cluster, idle, new ServerCertificateCheck(settings.Tls.ForClient()), ct);
            Console.WriteLine($"idle for {idle.TotalSeconds:0} s");
        }
        else await Task.Delay(Timeout.Infinite, ct);
    }
    catch (OperationCanceledException) { }
    Console.WriteLine("stopping the local cluster");
    return 0;
});
root.Subcommands.Add(local);
root.Subcommands.Add(CertsCommand.Build());

try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Akka.Configuration.ConfigurationException e)
{
    // A mistake in a --config file (mapreduce.blob-store.kind = azure, say): its message names the key.
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
catch (Exception e)
{
    // What System.CommandLine's default handler did: a cancellation ends quietly.
    if (e is not OperationCanceledException) Console.Error.WriteLine($"Unhandled exception: {e}");
    return 1;
}
