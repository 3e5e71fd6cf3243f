using MapReduce.Node;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Node;

/// <summary>The store's owner file, which holds the cluster token.</summary>
public sealed class StoreLockTests
{
    private const UnixFileMode OthersMayTouch = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>
    /// The file was created with the default mode (0644 under the usual umask) and made 0600 a moment
    /// later: another user who opened it in between keeps reading it. A watcher stats the file's temp
    /// name while it is rewritten many times; under no circumstances may it ever see a mode for others.
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_owner_file_is_never_readable_by_others_not_even_while_it_is_written()
    {
        using var folder = new TempFolder();
        var store = folder.File("store");
        using var held = StoreLock.Acquire(store, "akka.tcp://mapreduce@127.0.0.1:1", "the-token");
        var temp = Path.Combine(store, "local-cluster.owner.tmp");
        var seen = new HashSet<UnixFileMode>();
        using var done = new CancellationTokenSource();
        var watcher = Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                try { seen.Add(File.GetUnixFileMode(temp)); }
                catch (IOException) { } // not there at this instant
                catch (UnauthorizedAccessException) { }
            }
        });
        for (var i = 0; i < 2000; i++) held.Describe("akka.tcp://mapreduce@127.0.0.1:1", "the-token", ["http://127.0.0.1:4080/"]);
        done.Cancel();
        await watcher;

        Assert.DoesNotContain(seen, mode => (mode & OthersMayTouch) != 0);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(store, "local-cluster.owner")));
    }
}
