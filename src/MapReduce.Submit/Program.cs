using System.CommandLine;
using MapReduce.Storage.Catalog;
using MapReduce.Submit;
using MapReduce.Submit.Bench;

// MapReduce.Submit: run a job (uploading input and code, or reusing ids), inspect jobs with `status`,
// list and delete stored datasets with `datasets` and `delete`, or measure speed with `bench`.
var data = new Option<string?>("--data", "-d") { Description = "Folder of input text files (every file below it, hidden ones skipped)" };
var dataId = new Option<string?>("--data-id") { Description = "Id of a dataset already in the store, instead of --data" };
var code = new Option<string?>("--code", "-c") { Description = "Folder holding task.csx with Map and Reduce (or Reducer)" };
var codeId = new Option<string?>("--code-id") { Description = "Id of code already in the store, instead of --code" };
var output = new Option<string>("--output", "-o") { Description = "Folder that receives part-00000, part-00001, ...", Required = true };
var reducers = new Option<int?>("--reducers", "-r") { Description = "Reduce tasks, one output part each (default from hocon: 4)" };
var seeds = new Option<string[]>("--seed") { Description = "Join this running cluster (repeatable); without it a local cluster is started for the job" };
var store = new Option<string>("--store") { Description = "Local mode: folder for blobs, catalog, journal and logs", DefaultValueFactory = _ => ".mapreduce" };
var workers = new Option<int?>("--workers", "-w") { Description = "Local mode: worker processes (default from hocon: 2)" };
var tasksPerWorker = new Option<int?>("--tasks-per-worker") { Description = "Local mode: tasks each worker runs at once (default from hocon: 2)" };
var config = new Option<string?>("--config") { Description = "Extra HOCON file layered over hocon/mapreduce.hocon" };
var blockSize = new Option<int?>("--block-size") { Description = "Largest chunk of input one map task reads, in bytes (default from hocon: 8 MiB); chunks end at line ends" };

var root = new RootCommand("MapReduce.NET: run a map/reduce job written in C# on an Akka.NET cluster")
{
    data, dataId, code, codeId, output, reducers, seeds, store, workers, tasksPerWorker, config, blockSize,
};
root.SetAction(async (parse, ct) => await JobCommand.RunAsync(new JobOptions(
        parse.GetValue(data), parse.GetValue(dataId), parse.GetValue(code), parse.GetValue(codeId), parse.GetValue(output)!,
        parse.GetValue(reducers), parse.GetValue(seeds) ?? [], parse.GetValue(store)!, parse.GetValue(workers),
        parse.GetValue(tasksPerWorker), parse.GetValue(config), parse.GetValue(blockSize)),
    Console.Out, Console.Error, ct));

var execId = new Argument<string?>("job-id") { Description = "A job id; without it every job is listed", Arity = ArgumentArity.ZeroOrOne };
root.Subcommands.Add(CatalogReader("status", "List jobs, or show one job's tasks, from the catalog", execId,
    (location, parse) => StatusCommand.Run(location, parse.GetValue(execId), Console.Out, Console.Error)));
root.Subcommands.Add(CatalogReader("datasets", "List the stored datasets (uploaded inputs and job results) with their ids", null,
    (location, _) => DatasetsCommand.Run(location, Console.Out, Console.Error)));

var deleteIds = new Argument<string[]>("dataset-id") { Description = "Ids of stored datasets (data-... or result-job-...)", Arity = ArgumentArity.OneOrMore };
var deleteSeeds = new Option<string[]>("--seed") { Description = "Ask this running cluster (repeatable); without it a local cluster is started on --store" };
var deleteStore = new Option<string>("--store") { Description = "Local mode: the store folder", DefaultValueFactory = _ => ".mapreduce" };
var deleteConfig = new Option<string?>("--config") { Description = "Extra HOCON file layered over hocon/mapreduce.hocon" };
var delete = new Command("delete", "Delete stored datasets: their chunks and catalog rows (refused while a job that has not finished reads one)")
{
    deleteIds, deleteSeeds, deleteStore, deleteConfig,
};
delete.SetAction(async (parse, ct) => await DeleteCommand.RunAsync(new DeleteOptions(parse.GetValue(deleteIds)!, parse.GetValue(deleteSeeds) ?? [],
    parse.GetValue(deleteStore)!, parse.GetValue(deleteConfig)), Console.Out, Console.Error, ct));
root.Subcommands.Add(delete);

var size = new Option<string>("--size") { Description = "Input size to generate: bytes, or with KB, MB, GB (powers of 1000)", DefaultValueFactory = _ => "200MB" };
var files = new Option<int>("--files") { Description = "Input files the size is spread over", DefaultValueFactory = _ => 64 };
var benchWorkers = new Option<int>("--workers", "-w") { Description = "Worker processes in the local cluster", DefaultValueFactory = _ => 2 };
var benchSlots = new Option<int>("--tasks-per-worker") { Description = "Tasks each worker runs at once (1: one task per core with 2 workers on 2 cores)", DefaultValueFactory = _ => 1 };
var benchCode = new Option<string>("--code", "-c") { Description = "Folder holding the task.csx to run", DefaultValueFactory = _ => Path.Combine("samples", "wordcount") };
var samples = new Option<string>("--samples") { Description = "Folder of .txt files the input is made of", DefaultValueFactory = _ => Path.Combine("samples", "data") };
var benchDir = new Option<string>("--dir") { Description = "Folder for generated input, outputs and the cluster's store", DefaultValueFactory = _ => ".bench" };
var tinyRuns = new Option<int>("--tiny-runs") { Description = "Tiny jobs timed on the running cluster", DefaultValueFactory = _ => 5 };
var runs = new Option<int>("--runs") { Description = "Times each side runs the job; the ratio compares medians", DefaultValueFactory = _ => 3 };
var warmups = new Option<int>("--warmups") { Description = "Untimed runs of each side before the timed ones (the cluster's first big job grows its workers' heaps)", DefaultValueFactory = _ => 1 };
var benchConfig = new Option<string?>("--config") { Description = "Extra HOCON file layered over hocon/mapreduce.hocon" };
var bench = new Command("bench", "Benchmark: the same job sequentially in one process and on a local cluster; prints times, ratio, peak memory, and checks the outputs match")
{
    size, files, benchWorkers, benchSlots, benchCode, samples, benchDir, tinyRuns, runs, warmups, benchConfig,
};
bench.SetAction(async (parse, ct) =>
{
    if (ByteSize.Parse(parse.GetValue(size)!) is not { } bytes || bytes < 1)
    {
        Console.Error.WriteLine($"error: --size '{parse.GetValue(size)}' is not a size such as 200MB or 1GB");
        return JobCommand.UsageError;
    }
    return await BenchCommand.RunAsync(new BenchOptions(bytes, parse.GetValue(files), parse.GetValue(benchWorkers), parse.GetValue(benchSlots), parse.GetValue(benchCode)!,
        parse.GetValue(samples)!, parse.GetValue(benchDir)!, parse.GetValue(tinyRuns), parse.GetValue(benchConfig), parse.GetValue(runs), parse.GetValue(warmups)), Console.Out, Console.Error, ct);
});
root.Subcommands.Add(bench);

var jobCount = new Option<int>("--jobs") { Description = "Tiny jobs in the burst", DefaultValueFactory = _ => 200 };
var clients = new Option<int>("--clients") { Description = "Clients submitting the burst at once, each one job after another", DefaultValueFactory = _ => 8 };
var big = new Option<string>("--big") { Description = "Size of a big job a tiny job is submitted beside first (0: none)", DefaultValueFactory = _ => "200MB" };
var failover = new Option<bool>("--failover") { Description = "At the end, SIGKILL the active master and time the standby's take-over" };
var jobsWorkers = new Option<int>("--workers", "-w") { Description = "Worker processes in the local cluster", DefaultValueFactory = _ => 2 };
var jobsSlots = new Option<int>("--tasks-per-worker") { Description = "Tasks each worker runs at once", DefaultValueFactory = _ => 2 };
var jobsCode = new Option<string>("--code", "-c") { Description = "Folder holding the task.csx to run", DefaultValueFactory = _ => Path.Combine("samples", "wordcount") };
var jobsSamples = new Option<string>("--samples") { Description = "Folder of .txt files the inputs are made of", DefaultValueFactory = _ => Path.Combine("samples", "data") };
var jobsDir = new Option<string>("--dir") { Description = "Folder for generated input, outputs and the cluster's store", DefaultValueFactory = _ => ".bench" };
var jobsConfig = new Option<string?>("--config") { Description = "Extra HOCON file layered over hocon/mapreduce.hocon" };
var jobsBench = new Command("jobs", "Benchmark the master: a tiny job beside a big one, a burst of tiny jobs from several clients (jobs/s, master CPU and memory), optionally a failover")
{
    jobCount, clients, big, failover, jobsWorkers, jobsSlots, jobsCode, jobsSamples, jobsDir, jobsConfig,
};
jobsBench.SetAction(async (parse, ct) =>
{
    if (ByteSize.Parse(parse.GetValue(big)!) is not { } bigBytes || bigBytes < 0)
    {
        Console.Error.WriteLine($"error: --big '{parse.GetValue(big)}' is not a size such as 200MB, or 0");
        return JobCommand.UsageError;
    }
    return await JobsBenchCommand.RunAsync(new JobsBenchOptions(parse.GetValue(jobCount), parse.GetValue(clients), bigBytes, parse.GetValue(jobsWorkers),
        parse.GetValue(jobsSlots), parse.GetValue(jobsCode)!, parse.GetValue(jobsSamples)!, parse.GetValue(jobsDir)!, parse.GetValue(jobsConfig), parse.GetValue(failover)),
        Console.Out, Console.Error, ct);
});
bench.Subcommands.Add(jobsBench);

var coldRuns = new Option<int>("--runs") { Description = "Times the demo is run", DefaultValueFactory = _ => 5 };
var coldLauncher = new Option<string>("--launcher") { Description = "How each run starts: dotnet-run (as the README's demo: dotnet run --no-build) or dll (this program's dll)", DefaultValueFactory = _ => ColdBenchCommand.DotnetRun };
coldLauncher.AcceptOnlyFromAmong(ColdBenchCommand.DotnetRun, ColdBenchCommand.Dll);
var coldProject = new Option<string>("--project") { Description = "The Submit project dotnet-run runs", DefaultValueFactory = _ => Path.Combine("src", "MapReduce.Submit") };
var coldData = new Option<string>("--data", "-d") { Description = "Input folder of the demo", DefaultValueFactory = _ => Path.Combine("samples", "data") };
var coldCode = new Option<string>("--code", "-c") { Description = "Code folder of the demo", DefaultValueFactory = _ => Path.Combine("samples", "wordcount") };
var coldOutput = new Option<string>("--output", "-o") { Description = "Output folder of the demo", DefaultValueFactory = _ => Path.Combine("out", "wordcount") };
var coldStore = new Option<string?>("--store") { Description = "Store folder given to each run (default: the job command's own)" };
var coldBench = new Command("cold", "Time the demo from the command: the README's job command line as a child process, several times; prints each wall time and min/median/max")
{
    coldRuns, coldLauncher, coldProject, coldData, coldCode, coldOutput, coldStore,
};
coldBench.SetAction(async (parse, ct) => await ColdBenchCommand.RunAsync(new ColdBenchOptions(parse.GetValue(coldRuns), parse.GetValue(coldLauncher)!,
    parse.GetValue(coldProject)!, parse.GetValue(coldData)!, parse.GetValue(coldCode)!, parse.GetValue(coldOutput)!, parse.GetValue(coldStore)), Console.Out, Console.Error, ct));
bench.Subcommands.Add(coldBench);

return await root.Parse(args).InvokeAsync();

// A command that reads the catalog without joining the cluster: from --catalog, or STORE/catalog.db.
static Command CatalogReader(string name, string description, Argument? argument, Func<SqlLocation, ParseResult, int> run)
{
    var catalog = new Option<string?>("--catalog") { Description = "Catalog database (SQLite path or postgres:...); default STORE/catalog.db" };
    var store = new Option<string>("--store") { Description = "Local-mode store folder", DefaultValueFactory = _ => ".mapreduce" };
    var command = new Command(name, description) { catalog, store };
    if (argument is not null) command.Arguments.Add(argument);
    command.SetAction(parse => run(SqlLocation.Parse(parse.GetValue(catalog) ?? Path.Combine(parse.GetValue(store)!, "catalog.db")), parse));
    return command;
}
