using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using MapReduce.Actors.UserCode;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.UserCode;

/// <summary>--in-process compiles task.csx for a debugger: a PDB naming the file on disk, so breakpoints bind and stack traces give its lines.</summary>
public sealed class ScriptDebugInfoTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private const string Script = """
        IEnumerable<(string, int)> Map(string docId, string chunk)
        {
            foreach (var w in chunk.Split(' ')) yield return (w, 1);
        }
        int Reduce(string key, IEnumerable<int> values) => values.Sum();
        if (Environment.GetEnvironmentVariable("MAPREDUCE_TEST_NEVER_SET_VARIABLE") is null) throw new InvalidOperationException("from line 6");
        """;

    [Fact]
    public void The_debug_image_embeds_a_pdb_whose_document_is_the_file_with_its_checksum_and_lines()
    {
        var path = _folder.File("task.csx");
        var bytes = Encoding.UTF8.GetBytes(Script);
        File.WriteAllBytes(path, bytes);

        var image = ScriptCompiler.CompileDebugImage(bytes, path);

        using var pe = new PEReader(System.Collections.Immutable.ImmutableArray.Create(image));
        var embedded = pe.ReadDebugDirectory().Single(d => d.Type == DebugDirectoryEntryType.EmbeddedPortablePdb);
        using var provider = pe.ReadEmbeddedPortablePdbDebugDirectoryData(embedded);
        var pdb = provider.GetMetadataReader();
        var document = pdb.GetDocument(pdb.Documents.Single());
        Assert.Equal(path, pdb.GetString(document.Name));
        // The checksum a debugger compares with the file it shows (requireExactSource), in the algorithm the PDB names.
        var algorithm = pdb.GetGuid(document.HashAlgorithm);
        var expected = algorithm == new Guid("ff1816ec-aa5e-4d10-87f7-6f4963833460") ? System.Security.Cryptography.SHA1.HashData(bytes)
            : algorithm == new Guid("8829d00f-11b8-4213-878b-770e8597ac16") ? System.Security.Cryptography.SHA256.HashData(bytes)
            : throw new Xunit.Sdk.XunitException($"unknown checksum algorithm {algorithm}");
        Assert.Equal(expected, pdb.GetBlobBytes(document.Hash));
        var lines = pdb.MethodDebugInformation.SelectMany(h => pdb.GetMethodDebugInformation(h).GetSequencePoints())
            .Where(p => !p.IsHidden).Select(p => p.StartLine).ToHashSet();
        Assert.Superset(new HashSet<int> { 3, 5, 6 }, lines);

        // The release image (every other run) carries none.
        using var release = new PEReader(System.Collections.Immutable.ImmutableArray.Create(ScriptCompiler.CompileImage(Script)));
        Assert.DoesNotContain(release.ReadDebugDirectory(), d => d.Type == DebugDirectoryEntryType.EmbeddedPortablePdb);

        // A stack trace out of the script names the file and the line.
        var thrown = Assert.Throws<UserCodeException>(() => ScriptCompiler.Load(image, "debug-test"));
        Assert.Contains($"{path}:line 6", thrown.InnerException!.StackTrace);
    }
}
