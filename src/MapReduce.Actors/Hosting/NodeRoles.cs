namespace MapReduce.Actors.Hosting;

public static class NodeRoles
{
    public const string KvStore = "kvstore";
    public const string Master = "master";
    public const string Worker = "worker";

    public static readonly string[] Servable = [KvStore, Master, Worker];
}
