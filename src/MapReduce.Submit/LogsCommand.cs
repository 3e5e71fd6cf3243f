using System.Text.Json;
using MapReduce.Submit.Client;

namespace MapReduce.Submit;

/// <summary>`logs JOB [--task ID]`: what user code printed in each attempt, and its exception, as the workers stored them.</summary>
public static class LogsCommand
{
    public static async Task<int> RunAsync(ClusterOptions o, string id, string? task, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (o.OpenSource(error) is not { } source) return ExitCodes.UsageError;
        return await StatusCommand.Guard(error, async () =>
        {
            if (await source.LogsAsync(id, task, ct) is not { } logs)
            {
                error.WriteLine($"error: no job '{id}' in {source.Description}");
                return ExitCodes.UsageError;
            }
            if (task is not null && logs.Length == 0)
            {
                error.WriteLine($"error: job {id} has no attempt of task '{task}' (tasks are named m00000, r00000, ...)");
                return ExitCodes.UsageError;
            }
            if (o.Json)
            {
                output.WriteLine(JsonSerializer.Serialize(logs, Submission.PrettyJson));
                return ExitCodes.Ok;
            }
            var shown = 0;
            foreach (var log in logs.Where(l => task is not null || l.Log.Length > 0))
            {
                output.WriteLine($"==> {log.Attempt} ({log.State}, on {log.Worker ?? "no worker"}) <==");
                output.Write(log.Log.Length == 0 ? "(nothing printed)\n" : log.Log.EndsWith('\n') ? log.Log : log.Log + "\n");
                shown++;
            }
            if (shown == 0) output.WriteLine($"no attempt of job {id} printed anything");
            return ExitCodes.Ok;
        });
    }
}
