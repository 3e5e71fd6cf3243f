using MapReduce.Storage;

namespace MapReduce.Node;

/// <summary>How to reach the local cluster running on a store: its masters' control API URLs and its cluster token.</summary>
public sealed record RunningLocalCluster(IReadOnlyList<string> ApiUrls, string? Token);

/// <summary>
/// One local cluster per store folder. Two on one store would run two kvstores over one blob
/// folder (each deleting the other's in-flight temp files as it starts, each rewriting the store
/// id) and two job masters appending to one journal under one persistence id. The lock is a
/// <see cref="FileLock"/>, so it goes with its process however that ends; a second file names the
/// holder, so the refusal can say how to reach it.
/// </summary>
public sealed class StoreLock : IDisposable
{
    private const string LockFileName = "local-cluster.lock";
    private const string OwnerFileName = "local-cluster.owner";

    private readonly FileStream _lock;
    private readonly string _ownerFile;

    private StoreLock(FileStream held, string ownerFile)
    {
        _lock = held;
        _ownerFile = ownerFile;
    }

    private const string TokenPrefix = "token ";

    /// <summary>Takes the store for a local cluster whose seed is <paramref name="seed"/>; a <see cref="LocalClusterException"/> when another holds it.</summary>
    /// <param name="token">The cluster's token; null when the store is only taken to be cleared (bench).</param>
    public static StoreLock Acquire(string store, string seed, string? token = null)
    {
        Directory.CreateDirectory(store);
        var ownerFile = Path.Combine(store, OwnerFileName);
        var held = FileLock.TryTake(Path.Combine(store, LockFileName)) ?? throw new LocalClusterException(DescribeHolder(store, ownerFile));
        var storeLock = new StoreLock(held, ownerFile);
        storeLock.Describe(seed, token, []);
        return storeLock;
    }

    /// <summary>
    /// Records how to reach the cluster, one item per line after the process id: its seed, its
    /// token, its masters' control API URLs. Readable by this user only, as the token is a secret:
    /// whoever may read the store's folder may read the blobs anyway.
    /// </summary>
    public void Describe(string seed, string? token, IReadOnlyList<string> apiUrls)
    {
        var temp = _ownerFile + ".tmp";
        // Created 0600, never chmod-ed after: a file made with the default mode first could be
        // opened by another user in between, who keeps reading it. A left-over temp file is replaced.
        File.Delete(temp);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var writer = new StreamWriter(temp, new System.Text.UTF8Encoding(false), options))
        {
            foreach (var line in new[] { Environment.ProcessId.ToString(), seed }.Concat(token is null ? [] : [TokenPrefix + token]).Concat(apiUrls))
                writer.WriteLine(line);
        }
        File.Move(temp, _ownerFile, overwrite: true);
    }

    /// <summary>The local cluster that holds <paramref name="store"/>, or null when none runs on it (no URLs yet while it starts).</summary>
    public static RunningLocalCluster? RunningCluster(string store)
    {
        if (!File.Exists(Path.Combine(store, LockFileName))) return null;
        using (var probe = FileLock.TryTake(Path.Combine(store, LockFileName)))
        {
            if (probe is not null) return null; // nobody holds it
        }
        try
        {
            var lines = File.ReadAllLines(Path.Combine(store, OwnerFileName)).Skip(2).ToList();
            var token = lines.FirstOrDefault(l => l.StartsWith(TokenPrefix, StringComparison.Ordinal))?[TokenPrefix.Length..];
            return new RunningLocalCluster(lines.Where(l => l.StartsWith("http", StringComparison.Ordinal)).ToList(), token);
        }
        catch (IOException) { return new RunningLocalCluster([], null); }
    }

    private static string DescribeHolder(string store, string ownerFile)
    {
        string[] owner;
        try { owner = File.ReadAllLines(ownerFile); }
        catch (IOException) { owner = []; }
        var api = owner.Skip(2).FirstOrDefault(l => l.StartsWith("http", StringComparison.Ordinal));
        return api is not null
            ? $"a local cluster already runs on the store {store} (process {owner[0]}); submit to it with --store {store} (or --cluster {api} and its token), or use another --store"
            : $"a local cluster already runs on the store {store}; use another --store";
    }

    public void Dispose()
    {
        try { File.Delete(_ownerFile); } catch (IOException) { }
        _lock.Dispose();
    }
}
