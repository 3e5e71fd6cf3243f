using System.CommandLine;
using MapReduce.Actors.Hosting;
using MapReduce.Submit;
using MapReduce.Submit.Bench;

// MapReduce.Submit: the CLI. Runs jobs (the root command is `submit`), follows, cancels and
// downloads them, and reads their status, counters and logs, all through the control API of the
// cluster's master nodes (docs/api.md); or measures speed with `bench`.
var root = new RootCommand("MapReduce.NET: run map/reduce jobs written in C# on an Akka.NET cluster; without a subcommand, `submit`");
var rootSubmit = SubmitCommand.Build(root);
var token = new Option<string?>("--token")
{
    Description = "The cluster token (docs/configuration.md); default: MAPREDUCE_TOKEN, else mapreduce.auth.token, else the one the local cluster on --store recorded",
    Recursive = true,
};
root.Options.Add(token);
var ca = new Option<FileInfo?>("--ca")
{
    Description = "PEM file of the CA that signed the cluster's certificates, to trust its HTTPS servers (docs/deploy.md); default: MAPREDUCE_TLS_CA, else mapreduce.tls.ca, else this machine's trusted roots",
    Recursive = true,
};
root.Options.Add(ca);
var submit = new Command("submit", "Run a job: upload input and code (or reuse stored ids), follow it, download the result");
SubmitCommand.Build(submit);
root.Subcommands.Add(submit);

var limit = new Option<int>("--limit") { Description = "Most jobs to list, newest first", DefaultValueFactory = _ => 50 };
var jobs = Query("jobs", "List jobs: id, state, progress, submitted, duration, input, code", out var jobsOptions);
jobs.Options.Add(limit);
jobs.SetAction(async (parse, ct) => await StatusCommand.ListAsync(jobsOptions(parse), parse.GetValue(limit), Console.Out, Console.Error, ct));
root.Subcommands.Add(jobs);

var statusId = new Argument<string?>("job") { Description = "A job id; without it, the jobs are listed", Arity = ArgumentArity.ZeroOrOne };
var status = Query("status", "Show one job: state, progress, attempts, failures and counters", out var statusOptions);
status.Arguments.Add(statusId);
status.SetAction(async (parse, ct) => parse.GetValue(statusId) is { } id
    ? await StatusCommand.ShowAsync(statusOptions(parse), id, Console.Out, Console.Error, ct)
    : await StatusCommand.ListAsync(statusOptions(parse), 50, Console.Out, Console.Error, ct));
root.Subcommands.Add(status);

var watchId = JobArgument();
var watchQuiet = new Option<bool>("--quiet", "-q") { Description = "Print only the outcome" };
var watch = Query("watch", "Follow a job's progress to its end; exits with the job's code (0 succeeded, 1 failed, 4 cancelled)", out var watchOptions, json: false);
watch.Arguments.Add(watchId);
watch.Options.Add(watchQuiet);
watch.SetAction(async (parse, ct) => await WatchCommand.RunAsync(watchOptions(parse), parse.GetValue(watchId)!, parse.GetValue(watchQuiet), Console.Out, Console.Error, ct));
root.Subcommands.Add(watch);

var cancelId = JobArgument();
var cancel = Query("cancel", "Cancel a running job: its attempts stop on their workers, its slots free up, its intermediate data is deleted", out var cancelOptions, json: false);
cancel.Arguments.Add(cancelId);
cancel.SetAction(async (parse, ct) => await CancelCommand.RunAsync(cancelOptions(parse), parse.GetValue(cancelId)!, Console.Out, Console.Error, ct));
root.Subcommands.Add(cancel);

var downloadId = JobArgument();
var downloadTo = new Option<string>("--output", "-o") { Description = "Folder that receives part-00000, part-00001, ...", Required = true };
var download = Query("download", "Download a succeeded job's result, at any time after it ended", out var downloadOptions, json: false);
download.Arguments.Add(downloadId);
download.Options.Add(downloadTo);
var downloadFormat = new Option<string?>("--output-format") { Description = "How the parts are written: tsv (default: key<TAB>value, as stored), jsonl or csv (as submit's --output-format)" };
download.Options.Add(downloadFormat);
download.SetAction(async (parse, ct) => await DownloadCommand.RunAsync(downloadOptions(parse), parse.GetValue(downloadId)!, parse.GetValue(downloadTo)!, Console.Out, Console.Error, ct, parse.GetValue(downloadFormat)));
root.Subcommands.Add(download);

var logsId = JobArgument();
var logsTask = new Option<string?>("--task", "-t") { Description = "Only this task's attempts (m00000, r00003, ...)" };
var logs = Query("logs", "What user code printed in each attempt of a job, and its exception", out var logsOptions);
logs.Arguments.Add(logsId);
logs.Options.Add(logsTask);
logs.SetAction(async (parse, ct) => await LogsCommand.RunAsync(logsOptions(parse), parse.GetValue(logsId)!, parse.GetValue(logsTask), Console.Out, Console.Error, ct));
root.Subcommands.Add(logs);

var datasets = Query("datasets", "List the stored datasets (uploaded inputs and job results) with their ids", out var datasetsOptions);
datasets.SetAction(async (parse, ct) => await DatasetsCommand.RunAsync(datasetsOptions(parse), Console.Out, Console.Error, ct));
root.Subcommands.Add(datasets);

var deleteIds = new Argument<string[]>("dataset-id") { Description = "Ids of stored datasets (data-... or result-job-...)", Arity = ArgumentArity.OneOrMore };
var delete = Query("delete", "Delete stored datasets: their chunks and catalog rows (refused while a job that has not finished reads one)", out var deleteOptions, json: false);
delete.Arguments.Add(deleteIds);
delete.SetAction(async (parse, ct) => await DeleteCommand.RunAsync(deleteOptions(parse), parse.GetValue(deleteIds)!, Console.Out, Console.Error, ct));
root.Subcommands.Add(delete);

var page = Query("page", "Print the status page's link with the cluster token in it (a secret: the link opens the page and its Cancel button)", out var pageOptions, json: false);
page.SetAction(parse => PageCommand.Run(pageOptions(parse), Console.Out, Console.Error));
root.Subcommands.Add(page);

root.Subcommands.Add(BenchCommands.Build());

// Ctrl+C cancels the token; an attached job is then cancelled, which takes a journal write: wait for it.
var parsed = root.Parse(args);
// --token is MAPREDUCE_TOKEN for this process: every command reads the token from the settings,
// where the variable wins over the config, and a local cluster started here inherits it.
if (parsed.GetValue(token) is { Length: > 0 } given) Environment.SetEnvironmentVariable(ClusterToken.EnvironmentVariable, given);
if (parsed.GetValue(ca) is { } caFile) Environment.SetEnvironmentVariable(TlsSettings.CaEnvironmentVariable, caFile.FullName);
try
{
    // After Ctrl+C the command may cancel its job and stop its local cluster for this long: a bound on
    // the exit, not a wait anyone sizes (the cluster's own stop is bounded by mapreduce.local.stop-grace).
    return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30), EnableDefaultExceptionHandler = false });
}
catch (Akka.Configuration.ConfigurationException e)
{
    // A mistake in a --config file: its message names the key.
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
catch (Exception e)
{
    // What System.CommandLine's default handler did: a cancellation ends quietly.
    if (e is not OperationCanceledException) Console.Error.WriteLine($"Unhandled exception: {e}");
    return 1;
}

static Argument<string> JobArgument() => new("job") { Description = "A job id (job-...), as `jobs` lists them" };

// A command that reads or changes jobs on the cluster: --cluster, --store, --config (and --json).
static Command Query(string name, string description, out Func<ParseResult, ClusterOptions> options, bool json = true)
{
    var cluster = SubmitCommand.ClusterOption();
    var store = SubmitCommand.StoreOption();
    var config = new Option<string?>("--config") { Description = "Extra HOCON file layered over hocon/mapreduce.hocon" };
    var asJson = new Option<bool>("--json") { Description = "Print JSON (the control API's shapes, docs/api.md)" };
    var command = new Command(name, description) { cluster, store, config };
    if (json) command.Options.Add(asJson);
    options = parse => new ClusterOptions(parse.GetValue(cluster) ?? [], parse.GetValue(store)!, parse.GetValue(config), json && parse.GetValue(asJson));
    return command;
}
