using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using MapReduce.Sdk;
using MapReduce.Tests.Deploy;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.UserCode;

/// <summary>The SDK a job project references: nothing but .NET itself, and `dotnet pack` makes its package.</summary>
public sealed class SdkTests
{
    [Fact]
    public void The_SDK_references_only_the_framework()
    {
        var references = typeof(JobFunctions).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.NotEmpty(references);
        Assert.All(references, name => Assert.True(name == "System" || name.StartsWith("System.", StringComparison.Ordinal) || name is "netstandard" or "mscorlib",
            $"MapReduce.Sdk references {name}"));
    }

    [Fact]
    public async Task Dotnet_pack_makes_a_package_without_dependencies()
    {
        using var folder = new TempFolder();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "pack", RepoFiles.Path("src", "MapReduce.Sdk", "MapReduce.Sdk.csproj"), "-c", "Release", "-o", folder.Path, "-nologo" })
            start.ArgumentList.Add(arg);
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var pack = Process.Start(start)!;
        var output = pack.StandardOutput.ReadToEndAsync();
        var error = pack.StandardError.ReadToEndAsync();
        await pack.WaitForExitAsync();
        Assert.True(pack.ExitCode == 0, await output + await error);

        var package = Assert.Single(Directory.GetFiles(folder.Path, "MapReduce.Sdk.*.nupkg"));
        using var zip = ZipFile.OpenRead(package);
        Assert.Contains(zip.Entries, e => e.FullName == "lib/net10.0/MapReduce.Sdk.dll");
        using var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var dependencies = XDocument.Load(nuspec).Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string?)e.Attribute("id")).ToList();
        Assert.Empty(dependencies);
    }
}
