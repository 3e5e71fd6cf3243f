namespace MapReduce.Submit;

/// <summary>
/// `page`: the status page's link with the cluster token in it, for a person to open. Other commands
/// print the page's address without the token (their output ends up in terminals' scrollback and in
/// CI logs); this one prints the secret because it is asked to.
/// </summary>
public static class PageCommand
{
    public static int Run(ClusterOptions o, TextWriter output, TextWriter error)
    {
        if (ClusterConnection.Find(o.Connect, o.Settings) is not { } cluster)
        {
            error.WriteLine($"error: no cluster runs on the store {Path.GetFullPath(o.StoreFolder)}; pass --cluster URL (and its token), or --store FOLDER of a running local cluster");
            return ExitCodes.ClusterError;
        }
        if (cluster.Api.Token is null)
        {
            output.WriteLine(cluster.Api.CurrentUrl);
            error.WriteLine("(this cluster asks no token; its page opens as it is)");
            return ExitCodes.Ok;
        }
        output.WriteLine(cluster.Api.PageUrl);
        return ExitCodes.Ok;
    }
}
