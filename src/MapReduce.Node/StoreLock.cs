using MapReduce.Storage;

namespace MapReduce.Node;

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

    /// <summary>Takes the store for a local cluster whose seed is <paramref name="seed"/>; a <see cref="LocalClusterException"/> when another holds it.</summary>
    public static StoreLock Acquire(string store, string seed)
    {
        Directory.CreateDirectory(store);
        var ownerFile = Path.Combine(store, OwnerFileName);
        var held = FileLock.TryTake(Path.Combine(store, LockFileName)) ?? throw new LocalClusterException(DescribeHolder(store, ownerFile));
        var storeLock = new StoreLock(held, ownerFile);
        storeLock.Describe(seed, []);
        return storeLock;
    }

    /// <summary>Records how to reach the cluster: its seed and its masters' control API URLs, one per line after the process id.</summary>
    public void Describe(string seed, IReadOnlyList<string> apiUrls)
    {
        var temp = _ownerFile + ".tmp";
        File.WriteAllLines(temp, [Environment.ProcessId.ToString(), seed, .. apiUrls]);
        File.Move(temp, _ownerFile, overwrite: true);
    }

    /// <summary>The control API URLs of the local cluster that holds <paramref name="store"/>, or null when none runs on it.</summary>
    public static IReadOnlyList<string>? RunningCluster(string store)
    {
        if (!File.Exists(Path.Combine(store, LockFileName))) return null;
        using (var probe = FileLock.TryTake(Path.Combine(store, LockFileName)))
        {
            if (probe is not null) return null; // nobody holds it
        }
        try { return File.ReadAllLines(Path.Combine(store, OwnerFileName)).Skip(2).Where(l => l.StartsWith("http", StringComparison.Ordinal)).ToList(); }
        catch (IOException) { return []; }
    }

    private static string DescribeHolder(string store, string ownerFile)
    {
        string[] owner;
        try { owner = File.ReadAllLines(ownerFile); }
        catch (IOException) { owner = []; }
        return owner.Length >= 3
            ? $"a local cluster already runs on the store {store} (process {owner[0]}); submit to it with --cluster {owner[2]}, or use another --store"
            : $"a local cluster already runs on the store {store}; use another --store";
    }

    public void Dispose()
    {
        try { File.Delete(_ownerFile); } catch (IOException) { }
        _lock.Dispose();
    }
}
