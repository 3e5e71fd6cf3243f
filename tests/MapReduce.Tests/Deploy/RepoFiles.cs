namespace MapReduce.Tests.Deploy;

/// <summary>Files of the repository itself (hocon/, deploy/), found above the test's output folder.</summary>
public static class RepoFiles
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "MapReduce.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("MapReduce.sln not found above the test folder");
    }
}
