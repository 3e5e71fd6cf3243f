namespace MapReduce.IntegrationTests;

/// <summary>Many small input files: the sample books cut at line ends, so no word is lost or split.</summary>
public static class SmallFiles
{
    /// <summary>
    /// Writes <paramref name="files"/> files (piece-NNNN.txt, one in five in a/, one in five in
    /// a/b/) into a new folder <paramref name="folder"/>, together holding every line of the
    /// sample books once; returns the folder.
    /// </summary>
    public static async Task<string> WriteAsync(string folder, int files)
    {
        var input = Directory.CreateDirectory(folder).FullName;
        var lines = Directory.GetFiles(Cli.Samples("data")).Order(StringComparer.Ordinal).SelectMany(File.ReadLines).ToArray();
        for (var i = 0; i < files; i++)
        {
            var sub = (i % 5) switch { 0 => "a", 1 => "a/b", _ => "" };
            var path = Path.Combine(input, sub, $"piece-{i:D4}.txt");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var (from, to) = ((long)lines.Length * i / files, (long)lines.Length * (i + 1) / files);
            await File.WriteAllTextAsync(path, string.Concat(lines[(int)from..(int)to].Select(l => l + "\n")));
        }
        return input;
    }
}
