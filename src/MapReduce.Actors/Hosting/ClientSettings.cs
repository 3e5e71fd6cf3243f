using Akka.Configuration;

namespace MapReduce.Actors.Hosting;

/// <summary>The CLI's waits (mapreduce.client).</summary>
/// <param name="Patience">How long the CLI keeps asking when no master answers (a take-over) before a command fails.</param>
/// <param name="RequestTimeout">The longest it waits for one answer: longer than the control API holds any request.</param>
/// <param name="FinalRecordWait">After a job ended, how long it waits for the catalog to show the job's final record.</param>
/// <param name="BuildTimeout">The longest `dotnet build` of a job project may take.</param>
public sealed record ClientSettings(TimeSpan Patience, TimeSpan RequestTimeout, TimeSpan FinalRecordWait, TimeSpan BuildTimeout)
{
    public static ClientSettings From(Config mapreduce) => new(
        Durations.Positive(mapreduce, "client.patience"),
        Durations.Positive(mapreduce, "client.request-timeout"),
        Durations.Positive(mapreduce, "client.final-record-wait"),
        Durations.Positive(mapreduce, "client.build-timeout"));
}
