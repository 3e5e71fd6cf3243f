using System.Diagnostics;
using System.Net.Sockets;
using MapReduce.Storage.Chunking;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Storage;

/// <summary>
/// Listing input folders on real files: only regular files are read; FIFOs, sockets, links out of
/// the folder and link cycles are skipped with a warning line each; several folders' documents
/// are told apart by the folders' names.
/// </summary>
public sealed class InputFolderTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly List<string> _warnings = [];

    public void Dispose() => _folder.Dispose();

    private string Folder(string name) => Directory.CreateDirectory(_folder.File(name)).FullName;

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private IReadOnlyList<InputDocument> List(params string[] folders)
    {
        // A FIFO opened to be read would wait for a writer forever: the listing must never get there.
        var listing = Task.Run(() => InputFolder.List(folders, _warnings.Add));
        Assert.True(listing.Wait(TimeSpan.FromSeconds(30)), "listing the input folders hung");
        return listing.Result;
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    [Fact]
    public void Only_regular_files_are_read_and_a_fifo_a_socket_a_device_link_and_a_link_out_of_the_folder_are_skipped_with_a_warning()
    {
        if (OperatingSystem.IsWindows()) return; // FIFOs and Unix sockets are Unix things
        var input = Folder("in");
        var outside = Folder("outside");
        Write(Path.Combine(outside, "secret.txt"), "not yours\n");
        Write(Path.Combine(input, "a.txt"), "a\n");
        Write(Path.Combine(input, "sub", "b.txt"), "b\n");
        File.WriteAllText(Path.Combine(input, "empty.txt"), "");
        Write(Path.Combine(input, ".hidden", "c.txt"), "c\n");
        MakeFifo(Path.Combine(input, "pipe"));
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(Path.Combine(input, "sock")));
        File.CreateSymbolicLink(Path.Combine(input, "null"), "/dev/null");
        File.CreateSymbolicLink(Path.Combine(input, "secret.txt"), Path.Combine(outside, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(input, "elsewhere"), outside);
        File.CreateSymbolicLink(Path.Combine(input, "same-a.txt"), "a.txt");
        File.CreateSymbolicLink(Path.Combine(input, "dangling.txt"), "nothing-here.txt");

        var docs = List(input);

        Assert.Equal(["a.txt", "empty.txt", "same-a.txt", "sub/b.txt"], docs.Select(d => d.DocId));
        Assert.Equal(0, docs.Single(d => d.DocId == "empty.txt").Length);
        Assert.Equal(Path.Combine(input, "a.txt"), docs.Single(d => d.DocId == "same-a.txt").FullPath); // a link inside is followed
        Assert.Equal([
            $"skipped 'dangling.txt': a symbolic link to '{Path.Combine(input, "nothing-here.txt")}', which does not exist",
            $"skipped 'elsewhere': a symbolic link to '{outside}', outside the input folder (links are followed only inside it)",
            "skipped 'null': a symbolic link to '/dev/null', outside the input folder (links are followed only inside it)",
            "skipped 'pipe': a FIFO (named pipe), not a regular file (only regular files are read)",
            $"skipped 'secret.txt': a symbolic link to '{Path.Combine(outside, "secret.txt")}', outside the input folder (links are followed only inside it)",
            "skipped 'sock': a socket, not a regular file (only regular files are read)",
        ], _warnings);
    }

    [Fact]
    public void A_character_device_given_inside_the_folder_through_a_folder_link_is_not_read()
    {
        if (OperatingSystem.IsWindows()) return; // no /dev on Windows
        var root = Folder("devs");
        Directory.CreateSymbolicLink(Path.Combine(root, "dev"), "/dev");
        Write(Path.Combine(root, "a.txt"), "a\n");
        Assert.Equal(["a.txt"], List(root).Select(d => d.DocId));
        Assert.Equal(["skipped 'dev': a symbolic link to '/dev', outside the input folder (links are followed only inside it)"], _warnings);
        Assert.Equal(FileType.CharacterDevice, FileTypeProbe.Of("/dev/null", followLink: true));
    }

    /// <summary>One file and a link from a subfolder back up to the input folder once made 41 documents of one file.</summary>
    [Fact]
    public void A_symlinked_folder_cycle_is_skipped_with_a_warning_and_each_file_is_read_once()
    {
        var input = Folder("cycle");
        Write(Path.Combine(input, "a", "b", "one.txt"), "one\n");
        Directory.CreateSymbolicLink(Path.Combine(input, "a", "b", "up"), "..");
        Directory.CreateSymbolicLink(Path.Combine(input, "a", "b", "top"), input);
        Directory.CreateSymbolicLink(Path.Combine(input, "b-again"), Path.Combine(input, "a", "b"));

        var docs = List(input);

        // b-again is a second way into a/b (not a cycle): its file is read under that path too. Through
        // b-again, up leads to a, which is not being read on that way in; its b is, so the walk stops there.
        Assert.Equal(["a/b/one.txt", "b-again/one.txt"], docs.Select(d => d.DocId));
        Assert.Equal([
            "skipped 'a/b/top': it leads back to the input folder, which holds it (a cycle of symbolic links)",
            "skipped 'a/b/up': it leads back to the folder 'a', which holds it (a cycle of symbolic links)",
            "skipped 'b-again/top': it leads back to the input folder, which holds it (a cycle of symbolic links)",
            "skipped 'b-again/up/b': it leads back to the folder 'a/b', which holds it (a cycle of symbolic links)",
        ], _warnings);
    }

    [Fact]
    public void Several_folders_prefix_their_documents_with_the_folder_name_widened_where_names_repeat()
    {
        var books = Folder("books");
        var old = Folder(Path.Combine("2023", "papers"));
        var recent = Folder(Path.Combine("2024", "papers"));
        Write(Path.Combine(books, "a.txt"), "a\n");
        Write(Path.Combine(old, "a.txt"), "a\n");
        Write(Path.Combine(recent, "sub", "a.txt"), "a\n");

        Assert.Equal(["2023/papers/a.txt", "2024/papers/sub/a.txt", "books/a.txt"], List(books, old, recent).Select(d => d.DocId));
        Assert.Equal(["a.txt"], List(books).Select(d => d.DocId)); // one folder: ids as before
        Assert.Equal(["x/a/b", "y/a/b", "c"], InputFolder.DocIdPrefixes(["/r/x/a/b", "/r/y/a/b", "/r/c"]));
        Assert.Equal(["b", "a/b"], InputFolder.DocIdPrefixes(["/b", "/a/b"]));
    }

    [Fact]
    public void Overlapping_folders_and_documents_that_would_share_an_id_are_refused()
    {
        var outer = Folder("outer");
        var inner = Folder(Path.Combine("outer", "inner"));
        Write(Path.Combine(inner, "a.txt"), "a\n");
        Assert.Equal($"input folders '{outer}' and '{inner}' overlap (one is inside the other), so their files would be read twice",
            Assert.Throws<InputException>(() => InputFolder.List([outer, inner], _warnings.Add)).Message);
        Assert.Equal($"input folders '{inner}' and '{inner}/' are the same folder; give it once",
            Assert.Throws<InputException>(() => InputFolder.List([inner, inner + "/"], _warnings.Add)).Message);

        // q/b holding c/x, and z/c/b holding x (b shares its name with q/b, so both widen to two parts): both would be c/b/x... 
        var qb = Folder(Path.Combine("q", "b"));
        var zcb = Folder(Path.Combine("z", "c", "b"));
        var yc = Folder(Path.Combine("y", "c"));
        Write(Path.Combine(yc, "b", "x"), "x\n");
        Write(Path.Combine(zcb, "x"), "x\n");
        Write(Path.Combine(qb, "x"), "x\n");
        Assert.Equal($"input folders '{yc}' and '{zcb}' both give a document 'c/b/x'; rename one of the folders",
            Assert.Throws<InputException>(() => InputFolder.List([yc, zcb, qb], _warnings.Add)).Message);
    }

    [Fact]
    public void A_missing_folder_and_a_file_given_as_a_folder_are_refused()
    {
        var file = _folder.File("file.txt");
        File.WriteAllText(file, "x\n");
        Assert.Equal($"input '{file}' is a file; pass the folder that holds the input files", Assert.Throws<InputException>(() => InputFolder.List([file], _warnings.Add)).Message);
        Assert.Equal($"input folder '{_folder.File("nope")}' does not exist", Assert.Throws<InputException>(() => InputFolder.List([_folder.File("nope")], _warnings.Add)).Message);
    }

    [Fact]
    public void A_real_path_resolves_links_in_every_part_and_a_loop_of_links_is_an_error()
    {
        if (OperatingSystem.IsWindows()) return; // realpath(3) semantics are Unix ones
        var root = Folder("real");
        Directory.CreateDirectory(Path.Combine(root, "x", "y"));
        Directory.CreateSymbolicLink(Path.Combine(root, "lx"), "x");
        File.CreateSymbolicLink(Path.Combine(root, "loop1"), "loop2");
        File.CreateSymbolicLink(Path.Combine(root, "loop2"), "loop1");
        Assert.Equal(Path.Combine(root, "x", "y"), RealPath.Of(Path.Combine(root, "lx", "y")));
        Assert.Equal(Path.Combine(root, "x"), RealPath.Of(Path.Combine(root, "lx", "y", "..")));
        Assert.Throws<IOException>(() => RealPath.Of(Path.Combine(root, "loop1")));
        Write(Path.Combine(root, "a.txt"), "a\n");
        List(root);
        Assert.Contains("skipped 'loop1': a symbolic link that cannot be followed (more than 40 symbolic links in a row (a loop of links))", _warnings);
    }
}
