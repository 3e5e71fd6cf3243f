namespace MapReduce.Actors.Hosting;

/// <summary>
/// Seed addresses in the transport the node speaks. Akka names TLS remoting <c>akka.ssl.tcp</c>
/// and plain <c>akka.tcp</c>, and a seed in the other one is never reached; configs and flags may
/// write either, so one config file serves a cluster with and without TLS.
/// </summary>
public static class SeedAddress
{
    private const string Plain = "akka.tcp://";
    private const string Tls = "akka.ssl.tcp://";

    public static string For(string seed, bool tls)
    {
        var rest = seed.StartsWith(Tls, StringComparison.OrdinalIgnoreCase) ? seed[Tls.Length..]
            : seed.StartsWith(Plain, StringComparison.OrdinalIgnoreCase) ? seed[Plain.Length..]
            : null;
        return rest is null ? seed : (tls ? Tls : Plain) + rest;
    }
}
