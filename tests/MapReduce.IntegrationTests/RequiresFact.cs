using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace MapReduce.IntegrationTests;

/// <summary>
/// A test that needs a program or a server this machine may lack: <paramref name="requirement"/> is a
/// type with a static <c>Unavailable</c> property (why it cannot be had here, or null), read when the
/// test is about to run. When it is missing the test is skipped under a name that says why, as in
/// <c>Skipped MapReduce.IntegrationTests.S3BlobStoreTests.X (skipped: install s3rver: npm install -g s3rver)</c>:
/// <c>dotnet test</c>'s console logger prints only a skipped test's name at its default verbosity
/// (the skip reason only at detailed), so the reason goes into the name.
/// </summary>
[XunitTestCaseDiscoverer("MapReduce.IntegrationTests.RequiresDiscoverer", "MapReduce.IntegrationTests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresFactAttribute(Type requirement) : FactAttribute
{
    public Type Requirement { get; } = requirement;
}

public sealed class RequiresDiscoverer(IMessageSink diagnostics) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions options, ITestMethod method, IAttributeInfo attribute)
    {
        var requirement = (Type)attribute.GetConstructorArguments().Single();
        yield return new RequiresTestCase(diagnostics, options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault(), method, requirement.AssemblyQualifiedName!);
    }
}

/// <summary>A test case that checks its requirement when it runs (not at discovery: some checks mount a tmpfs or make a network namespace).</summary>
public sealed class RequiresTestCase : XunitTestCase
{
    private string _requirement = "";

    [Obsolete("Called by the de-serializer", error: true)]
    public RequiresTestCase() { }

    public RequiresTestCase(IMessageSink diagnostics, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod method, string requirement)
        : base(diagnostics, display, options, method) => _requirement = requirement;

    public override void Serialize(IXunitSerializationInfo data)
    {
        base.Serialize(data);
        data.AddValue("Requirement", _requirement);
    }

    public override void Deserialize(IXunitSerializationInfo data)
    {
        base.Deserialize(data);
        _requirement = data.GetValue<string>("Requirement");
    }

    public override Task<RunSummary> RunAsync(IMessageSink diagnostics, IMessageBus bus, object[] constructorArguments, ExceptionAggregator aggregator, CancellationTokenSource cancellation)
    {
        var unavailable = Type.GetType(_requirement, throwOnError: true)!.GetProperty("Unavailable", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new InvalidOperationException($"{_requirement} has no static Unavailable property");
        return unavailable.GetValue(null) is string why
            ? new XunitTestCaseRunner(this, $"{DisplayName} (skipped: {why})", why, constructorArguments, TestMethodArguments, bus, aggregator, cancellation).RunAsync()
            : base.RunAsync(diagnostics, bus, constructorArguments, aggregator, cancellation);
    }
}
