using Xunit.Abstractions;
using Xunit.Sdk;

namespace MapReduce.IntegrationTests;

/// <summary>
/// Says, in <c>dotnet test</c>'s default output, why a class's tests skip: the console logger
/// prints only "Skipped NAME" for a skipped test, but it prints xunit's diagnostic messages
/// (<c>diagnosticMessages</c> in xunit.runner.json), which a fixture may send. One line per class.
/// </summary>
public abstract class SkipNotice
{
    protected SkipNotice(IMessageSink sink, string tests, string? unavailable)
    {
        if (unavailable is not null) sink.OnMessage(new DiagnosticMessage($"{tests} skip: {unavailable}"));
    }
}

public sealed class S3Requirement(IMessageSink sink) : SkipNotice(sink, "S3BlobStoreTests", S3Server.Unavailable);

public sealed class PostgresRequirement(IMessageSink sink) : SkipNotice(sink, "PostgresTests", PostgresServer.Unavailable);

public sealed class ChromiumRequirement(IMessageSink sink) : SkipNotice(sink, "StatusPageTests", StatusPageTests.Unavailable);

public sealed class NetworkHostsRequirement(IMessageSink sink) : SkipNotice(sink, "SeparateHostsTests", HostedCluster.Unavailable);
