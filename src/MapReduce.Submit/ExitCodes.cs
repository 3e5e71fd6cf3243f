namespace MapReduce.Submit;

/// <summary>The exit codes of `submit` and the other commands, for scripts that run the CLI.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int JobFailed = 1;
    public const int UsageError = 2;
    public const int ClusterError = 3;
    public const int JobCancelled = 4;
}
