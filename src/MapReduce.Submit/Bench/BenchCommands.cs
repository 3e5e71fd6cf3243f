using System.CommandLine;

namespace MapReduce.Submit.Bench;

/// <summary>The `bench` command and its subcommands: options and wiring.</summary>
public static class BenchCommands
{
    public static Command Build()
    {
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
                return ExitCodes.UsageError;
            }
            return await BenchCommand.RunAsync(new BenchOptions(bytes, parse.GetValue(files), parse.GetValue(benchWorkers), parse.GetValue(benchSlots), parse.GetValue(benchCode)!,
                parse.GetValue(samples)!, parse.GetValue(benchDir)!, parse.GetValue(tinyRuns), parse.GetValue(benchConfig), parse.GetValue(runs), parse.GetValue(warmups)), Console.Out, Console.Error, ct);
        });


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
        var manyTasks = new Option<bool>("--many-tasks") { Description = "Instead: jobs of 200, 2,000 and 20,000 map tasks of one tiny chunk each; prints the masters' CPU per task and tasks/s for each" };
        var jobsBench = new Command("jobs", "Benchmark the master: a tiny job beside a big one, a burst of tiny jobs from several clients (jobs/s, master CPU and memory), optionally a failover")
        {
            jobCount, clients, big, failover, jobsWorkers, jobsSlots, jobsCode, jobsSamples, jobsDir, jobsConfig, manyTasks,
        };
        jobsBench.SetAction(async (parse, ct) =>
        {
            if (ByteSize.Parse(parse.GetValue(big)!) is not { } bigBytes || bigBytes < 0)
            {
                Console.Error.WriteLine($"error: --big '{parse.GetValue(big)}' is not a size such as 200MB, or 0");
                return ExitCodes.UsageError;
            }
            return await JobsBenchCommand.RunAsync(new JobsBenchOptions(parse.GetValue(jobCount), parse.GetValue(clients), bigBytes, parse.GetValue(jobsWorkers),
                parse.GetValue(jobsSlots), parse.GetValue(jobsCode)!, parse.GetValue(jobsSamples)!, parse.GetValue(jobsDir)!, parse.GetValue(jobsConfig), parse.GetValue(failover),
                parse.GetValue(manyTasks)),
                Console.Out, Console.Error, ct);
        });
        bench.Subcommands.Add(jobsBench);
        var incSize = new Option<string>("--size") { Description = "Input size to generate: bytes, or with KB, MB, GB (powers of 1000)", DefaultValueFactory = _ => "200MB" };
        var incFiles = new Option<int>("--files") { Description = "Input files the size is spread over; one of them changes", DefaultValueFactory = _ => 64 };
        var incWorkers = new Option<int>("--workers", "-w") { Description = "Worker processes in the local cluster", DefaultValueFactory = _ => 2 };
        var incSlots = new Option<int>("--tasks-per-worker") { Description = "Tasks each worker runs at once", DefaultValueFactory = _ => 1 };
        var incCode = new Option<string>("--code", "-c") { Description = "Folder holding the task.csx to run", DefaultValueFactory = _ => Path.Combine("samples", "wordcount") };
        var incSamples = new Option<string>("--samples") { Description = "Folder of .txt files the input is made of", DefaultValueFactory = _ => Path.Combine("samples", "data") };
        var incDir = new Option<string>("--dir") { Description = "Folder for generated input, outputs and the cluster's store", DefaultValueFactory = _ => ".bench" };
        var incRuns = new Option<int>("--runs") { Description = "Rounds of full run, one file changed, nothing changed", DefaultValueFactory = _ => 3 };
        var incConfig = new Option<string?>("--config") { Description = "Extra HOCON file layered over hocon/mapreduce.hocon" };
        var incrementalBench = new Command("incremental", "Benchmark --incremental: the full job, the re-run after 1 of the files changed, the re-run with nothing changed; prints the times and their ratios to the full job")
        {
            incSize, incFiles, incWorkers, incSlots, incCode, incSamples, incDir, incRuns, incConfig,
        };
        incrementalBench.SetAction(async (parse, ct) =>
        {
            if (ByteSize.Parse(parse.GetValue(incSize)!) is not { } bytes || bytes < 1)
            {
                Console.Error.WriteLine($"error: --size '{parse.GetValue(incSize)}' is not a size such as 200MB or 1GB");
                return ExitCodes.UsageError;
            }
            return await IncrementalBenchCommand.RunAsync(new IncrementalBenchOptions(bytes, parse.GetValue(incFiles), parse.GetValue(incWorkers), parse.GetValue(incSlots),
                parse.GetValue(incCode)!, parse.GetValue(incSamples)!, parse.GetValue(incDir)!, parse.GetValue(incConfig), parse.GetValue(incRuns)), Console.Out, Console.Error, ct);
        });
        bench.Subcommands.Add(incrementalBench);
        var coldRuns = new Option<int>("--runs") { Description = "Times the demo is run", DefaultValueFactory = _ => 5 };
        var coldLauncher = new Option<string>("--launcher") { Description = "How each run starts: script (as the README's demo: ./mapreduce, run from the repository root), dotnet-run (dotnet run --no-build) or dll (this program's dll)", DefaultValueFactory = _ => ColdBenchCommand.Script };
        coldLauncher.AcceptOnlyFromAmong(ColdBenchCommand.Script, ColdBenchCommand.DotnetRun, ColdBenchCommand.Dll);
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

        var sortSize = new Option<string>("--size") { Description = "Input size: bytes, or with KB, MB, GB (powers of 1000), in records of 100 bytes", DefaultValueFactory = _ => "1GB" };
        var sortSeed = new Option<ulong>("--seed") { Description = "Seed of the generated records (the same seed, the same bytes)", DefaultValueFactory = _ => 1 };
        var sortReducers = new Option<int>("--reducers") { Description = "Reduce partitions (output parts); 0: one per 256 MB of input, rounded up to a multiple of the task slots, at least 2", DefaultValueFactory = _ => 0 };
        var sortWorkers = new Option<int>("--workers", "-w") { Description = "Worker processes in the local cluster", DefaultValueFactory = _ => 2 };
        var sortSlots = new Option<int>("--tasks-per-worker") { Description = "Tasks each worker runs at once", DefaultValueFactory = _ => 1 };
        var sortCode = new Option<string>("--code", "-c") { Description = "Folder holding the sort's task.csx", DefaultValueFactory = _ => Path.Combine("samples", "sort") };
        var sortDir = new Option<string>("--dir") { Description = "Folder for the generated input, outputs and the cluster's store", DefaultValueFactory = _ => ".bench" };
        var sortConfig = new Option<string?>("--config") { Description = "Extra HOCON file layered over hocon/mapreduce.hocon" };
        var sortCompare = new Option<bool>("--compare") { Description = "Also compare the output with GNU sort's byte for byte (needs space for one more copy)" };
        var sortBench = new Command("sort", "The sort benchmark: TeraSort-style records sorted on a local cluster (samples/sort) against GNU sort on the same file; validates order, count and checksum")
        {
            sortSize, sortSeed, sortReducers, sortWorkers, sortSlots, sortCode, sortDir, sortConfig, sortCompare,
        };
        sortBench.SetAction(async (parse, ct) =>
        {
            if (ByteSize.Parse(parse.GetValue(sortSize)!) is not { } bytes || bytes < 100)
            {
                Console.Error.WriteLine($"error: --size '{parse.GetValue(sortSize)}' is not a size such as 100MB or 10GB");
                return ExitCodes.UsageError;
            }
            return await SortBenchCommand.RunAsync(new SortBenchOptions(bytes, parse.GetValue(sortSeed), parse.GetValue(sortReducers), parse.GetValue(sortWorkers),
                parse.GetValue(sortSlots), parse.GetValue(sortCode)!, parse.GetValue(sortDir)!, parse.GetValue(sortConfig), parse.GetValue(sortCompare)), Console.Out, Console.Error, ct);
        });
        bench.Subcommands.Add(sortBench);
        bench.Subcommands.Add(ChaosCommand());
        return bench;
    }

    private static Command ChaosCommand()
    {
        var minutes = new Option<double>("--minutes") { Description = "How long the soak injects faults", DefaultValueFactory = _ => 30 };
        var clients = new Option<int>("--clients") { Description = "Clients running jobs at once, each one job after another", DefaultValueFactory = _ => 3 };
        var workers = new Option<int>("--workers", "-w") { Description = "Worker processes in the local cluster", DefaultValueFactory = _ => 3 };
        var faultEvery = new Option<double>("--fault-every") { Description = "Mean seconds between two faults", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "Seed of the faults' and the clients' choices", DefaultValueFactory = _ => 1 };
        var busy = new Option<int>("--busy") { Description = "Threads that keep the CPU busy during the soak", DefaultValueFactory = _ => 0 };
        var code = new Option<string>("--code", "-c") { Description = "Folder holding the word count's task.csx", DefaultValueFactory = _ => Path.Combine("samples", "wordcount") };
        var samples = new Option<string>("--samples") { Description = "Folder of .txt files the inputs are made of", DefaultValueFactory = _ => Path.Combine("samples", "data") };
        var dir = new Option<string>("--dir") { Description = "Folder for inputs, outputs and the cluster's store", DefaultValueFactory = _ => ".bench" };
        var config = new Option<string?>("--config") { Description = "Extra HOCON file layered over hocon/mapreduce.hocon" };
        var chaos = new Command("chaos", "A nemesis soak: jobs from several clients while random nodes of every role are SIGKILLed and paused; then checks every job, the catalog and the store for anomalies")
        {
            minutes, clients, workers, faultEvery, seed, busy, code, samples, dir, config,
        };
        chaos.SetAction(async (parse, ct) => await ChaosBenchCommand.RunAsync(new ChaosBenchOptions(
            TimeSpan.FromMinutes(parse.GetValue(minutes)), parse.GetValue(clients), parse.GetValue(workers), TimeSpan.FromSeconds(parse.GetValue(faultEvery)),
            parse.GetValue(seed), parse.GetValue(busy), parse.GetValue(code)!, parse.GetValue(samples)!, parse.GetValue(dir)!, parse.GetValue(config)), Console.Out, Console.Error, ct));
        return chaos;
    }
}
