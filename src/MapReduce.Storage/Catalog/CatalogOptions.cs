using LinqToDB;

namespace MapReduce.Storage.Catalog;

/// <summary>Where a SQL database is: a SQLite file (the embedded default) or a PostgreSQL server.</summary>
public sealed record SqlLocation(string Provider, string ConnectionString)
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary>A SQLite file; busy waits up to 30 s because several node processes share it.</summary>
    public static SqlLocation SqliteFile(string path) =>
        new(Sqlite, $"Data Source={Path.GetFullPath(path)};Default Timeout=30;Pooling=True");

    /// <summary>
    /// Reads "postgres:Host=...;..." or a plain "Host=..." connection string as PostgreSQL, anything
    /// else as the path of a SQLite file.
    /// </summary>
    public static SqlLocation Parse(string value)
    {
        if (value.StartsWith("postgres:", StringComparison.OrdinalIgnoreCase))
            return new(Postgres, value["postgres:".Length..]);
        if (value.Contains("Host=", StringComparison.OrdinalIgnoreCase))
            return new(Postgres, value);
        return SqliteFile(value);
    }

    /// <summary>The database file of a SQLite location; null for PostgreSQL.</summary>
    public string? SqliteFilePath =>
        Provider == Sqlite ? new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(ConnectionString).DataSource : null;

    /// <summary>The linq2db provider name, as Akka.Persistence.Sql also expects it.</summary>
    public string Linq2DbProvider => Provider == Postgres ? ProviderName.PostgreSQL15 : ProviderName.SQLiteMS;

    /// <summary>
    /// Where the database is, for a person: "the SQLite file F on NODE-HOST" (a path alone does not
    /// tell two machines' files apart) or "the PostgreSQL database D on H:PORT"; never a password.
    /// </summary>
    public string Describe(string nodeHost)
    {
        if (SqliteFilePath is { } file) return $"the SQLite file {file} on {nodeHost}";
        var pg = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString);
        return $"the PostgreSQL database {pg.Database ?? pg.Username ?? "(default)"} on {pg.Host}:{pg.Port}";
    }

    public override string ToString() => Provider == Sqlite ? $"sqlite ({SqliteFilePath})" : "postgres";
}
