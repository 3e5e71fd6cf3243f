using System.CommandLine;
using MapReduce.Actors.Hosting;

namespace MapReduce.Submit;

/// <summary>The options of `submit` (and of the root command, which is `submit` too) and how they become <see cref="SubmitOptions"/>.</summary>
public static class SubmitCommand
{
    public static Option<string[]> ClusterOption() => new("--cluster")
    {
        Description = "Control API URL of a master node of a running cluster (repeatable, or comma-separated; any one answers). Default: mapreduce.cluster in hocon, else the local cluster on --store, started if none runs",
    };

    public static Option<string> StoreOption() => new("--store") { Description = "Local mode: folder for blobs, catalog, journal and logs", DefaultValueFactory = _ => ".mapreduce" };

    public static Command Build(Command command)
    {
        var data = new Option<string[]>("--data", "-d")
        {
            Description = "Folder of input text files (every regular file below it; hidden ones skipped, .gz files decompressed). Repeat it for several folders: document ids then start with each folder's name",
        };
        var encoding = new Option<string?>("--encoding")
        {
            Description = "Encoding of the input files: a .NET name or code page (latin1, windows-1252, utf-16, 932, ...; `--encoding list` prints them). Default UTF-8. Files are checked and stored as UTF-8; a byte not valid in the encoding fails the upload",
        };
        var sample = new Option<int?>("--sample") { Description = "Run on the first N lines of each input file only (a quick check): only those are uploaded, as the job's dataset" };
        var dataId = new Option<string?>("--data-id") { Description = "Id of a dataset already in the store, instead of --data" };
        var code = new Option<string?>("--code", "-c") { Description = "Folder holding task.csx with Map and Reduce (or Reducer), or a job project (.csproj), which is built (Release) and shipped with the assemblies of the packages it references" };
        var codeId = new Option<string?>("--code-id") { Description = "Id of code already in the store, instead of --code" };
        var output = new Option<string?>("--output", "-o") { Description = "Folder that receives part-00000, part-00001, ... (not with --detach)" };
        var reducers = new Option<int?>("--reducers", "-r") { Description = "Reduce tasks, one output part each (default from hocon: 4)" };
        var cluster = ClusterOption();
        var store = StoreOption();
        var workers = new Option<int?>("--workers", "-w") { Description = "Local mode: start this many worker processes beside a kvstore and the masters (without it: one process with every role)" };
        var tasksPerWorker = new Option<int?>("--tasks-per-worker") { Description = "Local mode: tasks each worker runs at once (default from hocon: 2)" };
        var config = new Option<string?>("--config") { Description = "Extra HOCON file layered over hocon/mapreduce.hocon" };
        var blockSize = new Option<int?>("--block-size") { Description = "Largest chunk of input one map task reads, in bytes (default from hocon: 8 MiB); chunks end at line ends" };
        var detach = new Option<bool>("--detach") { Description = "Print the job id once the job is journaled and exit; `watch`, `download` and `cancel` take the id" };
        var json = new Option<bool>("--json") { Description = "Print the outcome as JSON (with --detach: the job id and the data and code ids)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress; only the outcome" };
        var keep = new Option<TimeSpan?>("--keep-cluster")
        {
            Description = "Local mode: leave the local cluster up this long once idle (e.g. 10m), so the next job starts at once (default from hocon: 0s, stop with this command)",
            CustomParser = r => Durations.Parse(r),
        };
        var inProcess = new Option<bool>("--in-process") { Description = "Run kvstore, master and worker inside this command's process (still through the actors), task.csx compiled with debug information: a breakpoint in it stops in a debugger that launched the CLI (docs/debugging.md)" };
        var skipBadRecords = new Option<bool>("--skip-bad-records") { Description = "Skip input lines on which Map throws (or exits the worker's process) in two attempts, instead of failing the job; at most mapreduce.max-skipped-records (100) lines, listed by `status` and `logs` (default from hocon: off)" };
        var inputFormat = new Option<string?>("--input-format")
        {
            Description = "How input files are read: lines (default: Map(string docId, string chunk) gets whole lines), csv (with a header: Map(string docId, CsvRow row) per row), jsonl (Map(string docId, JsonElement record), or a type the job declares, per line) or whole-file (Map(string docId, byte[] content) per file)",
        };
        var outputFormat = new Option<string?>("--output-format")
        {
            Description = "How result parts are written: tsv (default: key<TAB>value lines), jsonl ({\"key\":...,\"value\":...} per line, part-N.jsonl) or csv (key,value with a header, part-N.csv)",
        };
        var seed = new Option<string[]>("--seed") { Hidden = true };
        var incremental = new Option<bool>("--incremental") { Description = "Reuse what earlier --incremental runs of the same input folder, code and reducers left: only the map tasks of files that changed run, and with nothing changed the earlier result is returned. For deterministic Map and Reduce only (docs/operations.md)" };
        foreach (var option in new Option[] { data, encoding, sample, dataId, code, codeId, output, reducers, cluster, store, workers, tasksPerWorker, config, blockSize, detach, json, quiet, keep, inProcess, skipBadRecords, inputFormat, outputFormat, seed, incremental })
            command.Options.Add(option);
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(seed) is { Length: > 0 })
            {
                Console.Error.WriteLine("error: --seed is gone: the CLI no longer joins the cluster but talks to a master node's control API; give --cluster http://HOST:PORT (each master prints it; local mode finds its cluster on --store by itself)");
                return ExitCodes.UsageError;
            }
            return await Submission.RunAsync(new SubmitOptions(
                parse.GetValue(data) ?? [], parse.GetValue(dataId), parse.GetValue(code), parse.GetValue(codeId), parse.GetValue(output),
                parse.GetValue(reducers), parse.GetValue(cluster) ?? [], parse.GetValue(store)!, parse.GetValue(workers),
                parse.GetValue(tasksPerWorker), parse.GetValue(config), parse.GetValue(blockSize), parse.GetValue(detach),
                parse.GetValue(json), parse.GetValue(quiet), parse.GetValue(keep)) { Encoding = parse.GetValue(encoding), Sample = parse.GetValue(sample), InProcess = parse.GetValue(inProcess),
                    InputFormat = parse.GetValue(inputFormat), OutputFormat = parse.GetValue(outputFormat), SkipBadRecords = parse.GetValue(skipBadRecords) ? true : null, Incremental = parse.GetValue(incremental) }, Console.Out, Console.Error, ct);
        });
        return command;
    }
}
