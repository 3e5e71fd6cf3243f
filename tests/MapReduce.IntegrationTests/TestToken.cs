using System.Runtime.CompilerServices;
using MapReduce.Actors.Hosting;

namespace MapReduce.IntegrationTests;

/// <summary>
/// One cluster token for the whole test run, in MAPREDUCE_TOKEN before any test starts: every
/// cluster the tests start (in this process or through `MapReduce.Node local`) and every CLI they
/// run inherit it, so `--cluster URL` works as it does for a user who exported the variable.
/// </summary>
public static class TestToken
{
    public static readonly string Value = ClusterToken.New();

    [ModuleInitializer]
    internal static void Export() => Environment.SetEnvironmentVariable(ClusterToken.EnvironmentVariable, Value);
}
