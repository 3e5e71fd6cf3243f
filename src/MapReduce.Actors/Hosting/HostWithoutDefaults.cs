using Microsoft.Extensions.Hosting;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// Settings for the generic host of every process that joins the cluster. The host's defaults
/// would read appsettings.json from the working directory and watch that directory, with every
/// folder under it, for changes: a node runs in its store folder, so each chunk, run and scratch
/// file written there woke all five local processes (inotify), and the submitter watched the
/// user's whole working tree. Nodes take their configuration from HOCON and log through their
/// own providers, so they need none of those defaults.
/// </summary>
public static class HostWithoutDefaults
{
    public static HostApplicationBuilderSettings Settings() => new() { DisableDefaults = true };
}
