using System.Diagnostics;
using Npgsql;

namespace MapReduce.IntegrationTests;

/// <summary>
/// A real PostgreSQL server for one test: a throwaway cluster (initdb, then pg_ctl start on a free
/// port of 127.0.0.1, trust authentication, its socket in its own folder) that is stopped and
/// deleted on dispose. Run as root, the server runs as the `postgres` user, since PostgreSQL refuses
/// root. With MAPREDUCE_TEST_POSTGRES set (a connection string of a user who may create
/// databases), that server is used instead and nothing is started.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string ServerVariable = "MAPREDUCE_TEST_POSTGRES";

    private readonly string? _dataFolder;
    private readonly string? _binFolder;
    private readonly List<string> _databases = [];

    private PostgresServer(string connectionString, string? dataFolder, string? binFolder)
    {
        ConnectionString = connectionString;
        _dataFolder = dataFolder;
        _binFolder = binFolder;
    }

    /// <summary>Connection string of the server's superuser (no database chosen).</summary>
    public string ConnectionString { get; }

    private static readonly string Missing =
        $"PostgreSQL's server programs (initdb, pg_ctl) were not found: install them (Debian: apt-get install -y postgresql) or set {ServerVariable} to a server's connection string";

    /// <summary>
    /// Why no server can be had on this machine, or null when one can. Under CI (CI=true, set by
    /// .ci/run's runner, which installs PostgreSQL) a missing server is a failure, never a skip.
    /// </summary>
    public static string? Unavailable =>
        Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } || FindBinFolder() is not null || Environment.GetEnvironmentVariable("CI") == "true"
            ? null
            : Missing;

    public static async Task<PostgresServer> StartAsync()
    {
        if (Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } existing) return new PostgresServer(existing, null, null);
        return await StartOwnAsync("127.0.0.1", null);
    }

    /// <summary>
    /// Why <see cref="StartOwnAsync"/> cannot start a server here, or null (under CI: never a
    /// reason). A server named by MAPREDUCE_TEST_POSTGRES does not count: the caller needs one on
    /// an address of its choosing.
    /// </summary>
    public static string? OwnServerUnavailable =>
        FindBinFolder() is not null || Environment.GetEnvironmentVariable("CI") == "true" ? null : Missing;

    /// <summary>
    /// Always a throwaway server of this test's own, listening on <paramref name="listenAddress"/>
    /// and trusting clients from <paramref name="clientSubnet"/> (CIDR) as well as 127.0.0.1: what
    /// nodes on other hosts (<see cref="NetworkHosts"/>) connect to.
    /// </summary>
    public static async Task<PostgresServer> StartOwnAsync(string listenAddress, string? clientSubnet)
    {
        var bin = FindBinFolder() ?? throw new InvalidOperationException(Missing);
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mapreduce-it", "pg-" + Guid.NewGuid().ToString("N"))).FullName;
        var data = Path.Combine(folder, "data");
        var port = MapReduce.Node.LocalCluster.FreePort();
        var server = new PostgresServer($"Host={listenAddress};Port={port};Username=postgres;Pooling=false", folder, bin);
        try
        {
            if (Environment.UserName == "root") await RunAsync("chown", ["postgres", folder]);
            await server.RunAsUserAsync("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync"]);
            // initdb trusts only local connections.
            if (clientSubnet is not null) await File.AppendAllTextAsync(Path.Combine(data, "pg_hba.conf"), $"host all all {clientSubnet} trust\n");
            await server.RunAsUserAsync("pg_ctl", ["-D", data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60",
                "-o", $"-p {port} -k {folder} -c listen_addresses={listenAddress} -c fsync=off", "start"]);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates a fresh database and returns its location as --catalog/--journal take it.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }
        _databases.Add(name);
        return "postgres:" + new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name, Pooling = false };
    }

    /// <summary>Runs one query on a database made by <see cref="CreateDatabaseAsync"/> and returns the first column of every row.</summary>
    public static async Task<List<string>> QueryAsync(string location, string sql)
    {
        await using var connection = new NpgsqlConnection(location["postgres:".Length..]);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync()) values.Add(Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!);
        return values;
    }

    public async ValueTask DisposeAsync()
    {
        if (_dataFolder is null)
        {
            // A server of the environment's: drop what this test made.
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            foreach (var name in _databases)
            {
                await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
                await command.ExecuteNonQueryAsync();
            }
            return;
        }
        var data = Path.Combine(_dataFolder, "data");
        if (File.Exists(Path.Combine(data, "postmaster.pid")))
            await RunAsUserAsync("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
        try { Directory.Delete(_dataFolder, recursive: true); } catch (IOException) { }
    }

    private static string? FindBinFolder()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
            : Enumerable.Empty<string>();
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator);
        return versions.Select(v => Path.Combine(v, "bin")).Concat(path)
            .FirstOrDefault(folder => File.Exists(Path.Combine(folder, "initdb")) && File.Exists(Path.Combine(folder, "pg_ctl")));
    }

    /// <summary>Runs a PostgreSQL program, as user postgres when this process is root.</summary>
    private Task RunAsUserAsync(string program, string[] args)
    {
        var file = Path.Combine(_binFolder!, program);
        return Environment.UserName == "root" ? RunAsync("runuser", ["-u", "postgres", "--", file, .. args]) : RunAsync(file, args);
    }

    private static async Task RunAsync(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetTempPath() };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await error}{await output}");
    }
}
