using MapReduce.Storage.Blobs;
using MapReduce.Storage.Chunking;
using MapReduce.Submit.Client;
using MapReduce.Tests.Deploy;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Submit;

/// <summary>What `-c FOLDER` names, and a job project that does not build or lacks its functions: one message each (real builds).</summary>
public sealed class JobCodeTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Make(string path, string text = "")
    {
        var file = _folder.File(path);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, text);
        return file;
    }

    [Fact]
    public void A_code_folder_holds_task_csx_one_project_or_a_solution_with_one_job_project_beside_its_tests()
    {
        var script = Make("script/task.csx");
        Assert.Equal(new JobCode(CodeKind.Script, script), JobCode.Find(_folder.File("script")));
        var project = Make("project/Job.csproj", "<Project Sdk=\"Microsoft.NET.Sdk\" />");
        Assert.Equal(new JobCode(CodeKind.Project, project), JobCode.Find(_folder.File("project")));
        Make("solution/MyJob.slnx");
        var job = Make("solution/MyJob/MyJob.csproj", "<Project Sdk=\"Microsoft.NET.Sdk\" />");
        Make("solution/MyJob.Tests/MyJob.Tests.csproj", "<Project Sdk=\"Microsoft.NET.Sdk\"><ItemGroup><PackageReference Include=\"Microsoft.NET.Test.Sdk\" /></ItemGroup></Project>");
        Assert.Equal(new JobCode(CodeKind.Project, job), JobCode.Find(_folder.File("solution")));

        Make("both/task.csx");
        Make("both/Job.csproj");
        Assert.Equal($"code folder '{_folder.File("both")}' holds both task.csx and Job.csproj; give a folder with one of them",
            Assert.Throws<InputException>(() => JobCode.Find(_folder.File("both"))).Message);
        Make("two/A.csproj");
        Make("two/B.csproj");
        Assert.Equal($"code folder '{_folder.File("two")}' holds 2 projects (A.csproj, B.csproj); give the folder of the job's own",
            Assert.Throws<InputException>(() => JobCode.Find(_folder.File("two"))).Message);
        Directory.CreateDirectory(_folder.File("empty"));
        Assert.Equal($"code folder '{_folder.File("empty")}' has no task.csx and no job project (.csproj)",
            Assert.Throws<InputException>(() => JobCode.Find(_folder.File("empty"))).Message);
        Assert.Equal($"code folder '{_folder.File("none")}' does not exist", Assert.Throws<InputException>(() => JobCode.Find(_folder.File("none"))).Message);
    }

    [Fact]
    public void A_build_failure_keeps_the_compilers_errors_once_each_relative_to_the_project()
    {
        var csproj = Path.Combine(_folder.Path, "p", "Job.csproj");
        var folder = Path.GetDirectoryName(csproj)!;
        var output = $"""
              {folder}/Job.cs(3,9): error CS0103: The name 'x' does not exist in the current context [{csproj}]
              {folder}/Job.cs(3,9): error CS0103: The name 'x' does not exist in the current context [{csproj}]
              {folder}/Sub/More.cs(10,1): error CS1002: ; expected [{csproj}]
              {csproj} : error NU1101: Unable to find package Nope. No packages exist with this id in source(s): nuget.org [{csproj}]
            """;
        Assert.Equal("job project Job.csproj does not build:\nJob.cs(3,9): error CS0103: The name 'x' does not exist in the current context\nSub/More.cs(10,1): error CS1002: ; expected\nJob.csproj : error NU1101: Unable to find package Nope. No packages exist with this id in source(s): nuget.org",
            ProjectBuild.BuildFailure(csproj, output));
    }

    private string Project(string name, string code) =>
        Make($"{name}/{name}.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
              <ItemGroup><ProjectReference Include="{RepoFiles.Path("src", "MapReduce.Sdk", "MapReduce.Sdk.csproj")}" /></ItemGroup>
            </Project>
            """) is var csproj && Make($"{name}/Job.cs", code) is not null ? csproj : csproj;

    [Fact]
    public async Task A_project_that_does_not_build_gives_the_compilers_errors_and_one_without_its_functions_the_signatures_expected()
    {
        var broken = Project("Broken", """
            using MapReduce.Sdk;
            [MapReduceJob]
            public class Job
            {
                public int Reduce(string k, IEnumerable<int> v) => undefinedThing;
            }
            """);
        var e = await Assert.ThrowsAsync<InputException>(() => ProjectBuild.ArchiveAsync(broken, CancellationToken.None));
        Assert.Equal("job project Broken.csproj does not build:\nJob.cs(5,56): error CS0103: The name 'undefinedThing' does not exist in the current context", e.Message);

        var noMap = Project("NoMap", """
            using MapReduce.Sdk;
            [MapReduceJob]
            public class Job
            {
                public int Reduce(string k, IEnumerable<int> v) => v.Sum();
            }
            """);
        e = await Assert.ThrowsAsync<InputException>(() => ProjectBuild.ArchiveAsync(noMap, CancellationToken.None));
        Assert.Equal("job project NoMap.csproj: Job (NoMap.dll) must define: IEnumerable<(TKey, TValue)> Map(string docId, string chunk)", e.Message);
    }

    /// <summary>Builds of job projects on one machine take turns (they may share the SDK project's obj folder); one that cannot get its turn says why.</summary>
    [Fact]
    public async Task Builds_of_job_projects_take_turns_and_one_kept_waiting_too_long_says_so()
    {
        var first = await ProjectBuild.TakeTurnAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
        var second = ProjectBuild.TakeTurnAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<InputException>(() => ProjectBuild.TakeTurnAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None));
        Assert.StartsWith("another build of a job project on this machine held ", refused.Message);
        Assert.Contains("turn.lock for 300 ms; try again once it is over", refused.Message);
        Assert.False(second.IsCompleted, "a second build got its turn while the first held it");
        first.Dispose();
        (await second.WaitAsync(TimeSpan.FromSeconds(30))).Dispose();
    }

    [Fact]
    public async Task A_build_longer_than_build_timeout_is_stopped_with_one_line()
    {
        // mapreduce.client.build-timeout: `dotnet publish` alone takes longer than this to start.
        var slow = Project("Slow", "public class Job { }");
        var e = await Assert.ThrowsAsync<InputException>(() => ProjectBuild.ArchiveAsync(slow, CancellationToken.None, TimeSpan.FromMilliseconds(200)));
        Assert.Equal("job project Slow.csproj did not build within 200ms", e.Message);
    }
}
