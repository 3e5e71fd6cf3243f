using MapReduce.Submit.Bench;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Submit;

/// <summary>What the chaos soak's leak check lists of a kvstore folder: every file a job may leave behind, but not the end markers every ended job keeps.</summary>
public sealed class ChaosStoreFilesTests
{
    [Fact]
    public void End_markers_are_not_leftovers_and_everything_else_is()
    {
        using var folder = new TempFolder();
        string[] files =
        [
            "blobs/ended/job-1", "checksums/ended/job-1", // the end marker and its checksum: not listed
            "blobs/jobs/job-1/map/m00000.2/p00000", "checksums/jobs/job-1/map/m00000.2/p00000", // a late run: listed
            "blobs/ended/job-2/x", "blobs/data/ended/job-1", "incoming/0123", "blobs/logs/job-1/m00000.1.log", "store-id",
        ];
        foreach (var file in files)
        {
            var path = Path.Combine(folder.Path, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "");
        }

        Assert.Equal(files.Skip(2).Select(f => f.Replace('/', Path.DirectorySeparatorChar)).Order(StringComparer.Ordinal),
            ChaosBenchCommand.StoreFiles(folder.Path).Order(StringComparer.Ordinal));
        Assert.Empty(ChaosBenchCommand.StoreFiles(Path.Combine(folder.Path, "missing")));
    }
}
