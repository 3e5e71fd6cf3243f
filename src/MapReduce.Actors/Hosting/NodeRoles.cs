namespace MapReduce.Actors.Hosting;

public static class NodeRoles
{
    public const string KvStore = "kvstore";
    public const string Master = "master";
    public const string Worker = "worker";
    /// <summary>The CLI's own node: it joins to upload, submit and download, and holds no work.</summary>
    public const string Submitter = "submitter";

    public static readonly string[] Servable = [KvStore, Master, Worker];
}
