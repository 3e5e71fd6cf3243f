using System.Security.Cryptography;
using System.Text;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// The shared secret that the control API, the status page and the kvstore's data channel ask of
/// every request (<c>Authorization: Bearer TOKEN</c>). From <c>mapreduce.auth.token</c>, or the
/// environment variable <see cref="EnvironmentVariable"/>, which wins (it keeps the secret out of
/// files and command lines). A local cluster makes a random one and records it in its store's owner
/// file, where the CLI on the same machine finds it.
/// </summary>
public static class ClusterToken
{
    public const string EnvironmentVariable = "MAPREDUCE_TOKEN";

    /// <summary>A new random token: 256 bits, URL-safe, so it can ride in the status page's address.</summary>
    public static string New() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The configured token: the environment variable when set, else the config value; null (no token asked) when both are empty.</summary>
    public static string? From(string? configured, string? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable(EnvironmentVariable);
        var token = string.IsNullOrWhiteSpace(environment) ? configured : environment;
        return string.IsNullOrWhiteSpace(token) ? null : token.Trim();
    }

    /// <summary>Compares in constant time, so the answer's timing does not reveal how much of a guess was right.</summary>
    public static bool Matches(string? given, string expected) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));
}
