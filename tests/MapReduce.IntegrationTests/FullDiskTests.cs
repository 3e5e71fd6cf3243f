using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace MapReduce.IntegrationTests;

/// <summary>
/// Full disks, made real with a small tmpfs (as root; skipped with one line otherwise): a worker's
/// scratch disk, where its attempts fail uncounted and the job finishes exactly on the other
/// worker; and the kvstore's folder, where the job fails saying "kvstore disk full", keeps nothing
/// partial, and the same job is exact once space is freed (docs/operations.md#full-disks).
/// </summary>
[RunsAbout(27)]
public sealed class FullDiskTests(ITestOutputHelper log)
{
    [RequiresFact(typeof(Tmpfs))]
    public async Task A_worker_whose_scratch_disk_is_full_fails_its_attempts_uncounted_offers_no_slot_saying_so_and_the_job_is_exact_on_the_other()
    {
        await using var cluster = await FailureCluster.StartAsync(workers: 2, config: work =>
            Config(work, "mapreduce.worker.min-free-scratch = 32KiB", "mapreduce.worker.disk-full-pause = 120s"));
        // worker-1's scratch (DATA/scratch/PID) on a 2 MiB tmpfs with 128 KiB left: it takes tasks
        // (over the 32 KiB minimum), but a map's runs (~300 KiB) do not fit.
        var scratch = Path.Combine(cluster.Store, "scratch", cluster.Node("worker-1").Process.Id.ToString());
        using var tmpfs = Tmpfs.Mount(scratch, "2m");
        tmpfs.FillLeaving(128 << 10);
        var input = RandomWords(Path.Combine(cluster.Work, "input"), files: 8, bytes: 512 << 10);
        var output = Path.Combine(cluster.Work, "out");

        var result = await Cli.SubmitAsync("-d", input, "-c", Cli.Samples("wordcount"), "-o", output, "--cluster", cluster.Api,
            "--block-size", "524288", "--reducers", "2");
        log.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Oracle.WordCount(input), Oracle.ReadParts(output, 2));

        var status = await Cli.SubmitAsync("status", result.SucceededJob, "--cluster", cluster.Api);
        log.WriteLine(status.ToString());
        var lines = status.Output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var full = lines.FindAll(l => l.Contains(": scratch disk full: ", StringComparison.Ordinal));
        Assert.NotEmpty(full);
        Assert.All(full, l => Assert.Matches(@"^  failed m\d{5}\.\d+ on \S+: scratch disk full: .*No space left on device.* \(not counted: the worker's scratch disk is full\)$", l));
        // Not counted: no task used up an attempt on it, so the job did not fail; and the worker says why it offers no slot.
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^worker \S+: scratch disk full \(an attempt ran out of space in .+ at \d\d:\d\d:\d\d UTC\), not offering slots until \d\d:\d\d:\d\d UTC$"));
    }

    [RequiresFact(typeof(Tmpfs))]
    public async Task A_full_kvstore_fails_the_job_saying_so_with_nothing_partial_kept_and_the_same_job_is_exact_once_space_is_freed()
    {
        Tmpfs? kvstore = null;
        string? work = null;
        try
        {
            // The kvstore's folder (DATA/kvstore) on a tmpfs mounted before the kvstore starts.
            await using var cluster = await FailureCluster.StartAsync(workers: 1, config: w =>
            {
                work = w;
                kvstore = Tmpfs.Mount(Path.Combine(w, "store", "kvstore"), "8m");
                return Config(w, "mapreduce.kvstore.disk-full-wait = 2s");
            });
            var input = RandomWords(Path.Combine(cluster.Work, "input"), files: 2, bytes: 256 << 10);
            var expected = Oracle.WordCount(input);
            var first = await Cli.SubmitAsync("-d", input, "-c", Cli.Samples("wordcount"), "-o", Path.Combine(cluster.Work, "out-1"), "--cluster", cluster.Api, "--reducers", "2");
            Assert.True(first.ExitCode == 0, first.ToString());
            Assert.Equal(expected, Oracle.ReadParts(Path.Combine(cluster.Work, "out-1"), 2));
            var ids = Regex.Match(first.Output, @"--data-id (\S+) --code-id (\S+)");
            Assert.True(ids.Success, first.Output);
            string[] again = ["--data-id", ids.Groups[1].Value, "--code-id", ids.Groups[2].Value, "--cluster", cluster.Api, "--reducers", "2"];

            // The disk full: the maps' runs cannot be stored; each attempt waits 2 s for space, then fails.
            var filler = kvstore!.FillLeaving(0);
            var refused = await Cli.SubmitAsync([.. again, "-o", Path.Combine(cluster.Work, "out-2")]);
            log.WriteLine(refused.ToString());
            Assert.True(refused.ExitCode == 1, refused.ToString());
            Assert.Matches(@"error: job job-\S+ failed: .*kvstore disk full: cannot store jobs/\S+: no space left in the folder .* \(waited \d+ s for space\)", refused.Error);
            Assert.False(Directory.Exists(Path.Combine(cluster.Work, "out-2")) && Directory.EnumerateFileSystemEntries(Path.Combine(cluster.Work, "out-2")).Any());
            // Nothing partial: no temp file is left, and the failed job's folder holds no run.
            Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(kvstore.Folder, "incoming")));
            var failedJob = Regex.Match(refused.Error, @"job (job-\S+) failed").Groups[1].Value;
            var jobFolder = Path.Combine(kvstore.Folder, "blobs", "jobs", failedJob);
            Assert.False(Directory.Exists(jobFolder) && Directory.EnumerateFiles(jobFolder, "p*", SearchOption.AllDirectories).Any(),
                string.Join("\n", Directory.Exists(jobFolder) ? Directory.EnumerateFiles(jobFolder, "*", SearchOption.AllDirectories) : []));

            // Space again: the same job is exact.
            File.Delete(filler);
            var freed = await Cli.SubmitAsync([.. again, "-o", Path.Combine(cluster.Work, "out-3")]);
            Assert.True(freed.ExitCode == 0, freed.ToString());
            Assert.Equal(expected, Oracle.ReadParts(Path.Combine(cluster.Work, "out-3"), 2));
            Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(kvstore.Folder, "incoming")));
        }
        finally
        {
            kvstore?.Dispose();
            if (work is not null) try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    private static string Config(string work, params string[] lines)
    {
        var path = Path.Combine(work, "fulldisk.hocon");
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
        return path;
    }

    /// <summary>Files of random 8-letter words, ten to a line: nearly every word distinct, so map runs are about as large as their input.</summary>
    private static string RandomWords(string folder, int files, int bytes)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(21);
        for (var f = 0; f < files; f++)
        {
            var text = new StringBuilder(bytes + 100);
            while (text.Length < bytes)
            {
                for (var w = 0; w < 10; w++)
                {
                    for (var c = 0; c < 8; c++) text.Append((char)('a' + random.Next(26)));
                    text.Append(w < 9 ? ' ' : '\n');
                }
            }
            File.WriteAllText(Path.Combine(folder, $"words-{f}.txt"), text.ToString());
        }
        return folder;
    }
}
