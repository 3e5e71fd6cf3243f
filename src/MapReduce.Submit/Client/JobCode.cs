using System.Xml.Linq;
using MapReduce.Actors.UserCode;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Chunking;

namespace MapReduce.Submit.Client;

/// <summary>What `-c` names: a task.csx, or a job project (its .csproj).</summary>
public sealed record JobCode(CodeKind Kind, string Path)
{
    /// <summary>
    /// The code in <paramref name="folder"/>: its task.csx; else its one .csproj; else, in a folder
    /// holding none (what `dotnet new mapreduce-job` makes: a solution with the job and its tests),
    /// the one project of its subfolders that is not a test project. Anything else is an
    /// <see cref="InputException"/> that says what a code folder holds.
    /// </summary>
    public static JobCode Find(string folder)
    {
        if (!Directory.Exists(folder)) throw new InputException($"code folder '{folder}' does not exist");
        var script = System.IO.Path.Combine(folder, ScriptCompiler.ScriptFileName);
        var projects = Directory.GetFiles(folder, "*.csproj").Order(StringComparer.Ordinal).ToList();
        if (File.Exists(script))
            return projects.Count == 0
                ? new JobCode(CodeKind.Script, script)
                : throw new InputException($"code folder '{folder}' holds both {ScriptCompiler.ScriptFileName} and {System.IO.Path.GetFileName(projects[0])}; give a folder with one of them");
        if (projects.Count == 1) return new JobCode(CodeKind.Project, projects[0]);
        if (projects.Count > 1)
            throw new InputException($"code folder '{folder}' holds {projects.Count} projects ({string.Join(", ", projects.Select(System.IO.Path.GetFileName))}); give the folder of the job's own");
        var jobs = Directory.GetDirectories(folder).SelectMany(d => Directory.GetFiles(d, "*.csproj")).Where(p => !IsTestProject(p)).Order(StringComparer.Ordinal).ToList();
        return jobs.Count switch
        {
            1 => new JobCode(CodeKind.Project, jobs[0]),
            0 => throw new InputException($"code folder '{folder}' has no {ScriptCompiler.ScriptFileName} and no job project (.csproj)"),
            _ => throw new InputException($"code folder '{folder}' holds {jobs.Count} projects that are not test projects ({string.Join(", ", jobs.Select(p => System.IO.Path.GetRelativePath(folder, p)))}); give the folder of the job's own"),
        };
    }

    /// <summary>A project that references the test SDK, or says it is a test project.</summary>
    private static bool IsTestProject(string csproj)
    {
        try
        {
            var xml = XDocument.Load(csproj);
            return xml.Descendants().Any(e =>
                (e.Name.LocalName == "PackageReference" && (string?)e.Attribute("Include") == "Microsoft.NET.Test.Sdk")
                || (e.Name.LocalName == "IsTestProject" && string.Equals(e.Value.Trim(), "true", StringComparison.OrdinalIgnoreCase)));
        }
        catch (System.Xml.XmlException)
        {
            return false; // not ours to judge: the build says what is wrong with it
        }
    }
}
