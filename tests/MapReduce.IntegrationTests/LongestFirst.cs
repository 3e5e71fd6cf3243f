using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("MapReduce.IntegrationTests.LongestFirst", "MapReduce.IntegrationTests")]

namespace MapReduce.IntegrationTests;

/// <summary>
/// About how long a test class (or a collection definition: all its classes) runs on the 2-core
/// dev VM, from a suite's trx. Only for <see cref="LongestFirst"/>: a wrong figure costs time, never a result.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RunsAboutAttribute(int seconds) : Attribute
{
    public int Seconds => seconds;
}

/// <summary>
/// Starts the test collections that run longest first. Two run at a time (xunit.runner.json); a
/// long one started last would leave the other thread idle at the end (the suite once ended with a
/// 2.5-minute soak running alone). Collections without <see cref="RunsAboutAttribute"/> come last,
/// in xunit's own order.
/// </summary>
public sealed class LongestFirst : ITestCollectionOrderer
{
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.Select((collection, index) => (collection, index))
            .OrderByDescending(c => SecondsOf(c.collection))
            .ThenBy(c => c.index)
            .Select(c => c.collection);

    private static int SecondsOf(ITestCollection collection) =>
        TypeOf(collection)?.GetCustomAttributes(typeof(RunsAboutAttribute), inherit: false).Cast<RunsAboutAttribute>().FirstOrDefault()?.Seconds ?? 0;

    /// <summary>The collection's definition, or the test class of a collection xunit made for one class ("Test collection for X").</summary>
    private static Type? TypeOf(ITestCollection collection)
    {
        if (collection.CollectionDefinition is IReflectionTypeInfo definition) return definition.Type;
        const string prefix = "Test collection for ";
        return collection.DisplayName.StartsWith(prefix, StringComparison.Ordinal)
            ? typeof(LongestFirst).Assembly.GetType(collection.DisplayName[prefix.Length..])
            : null;
    }
}
