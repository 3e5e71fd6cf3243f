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

    public override string ToString() => Provider == Sqlite ? $"sqlite ({SqliteFilePath})" : "postgres";
}
