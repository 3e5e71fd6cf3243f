using LinqToDB;
using LinqToDB.Data;
using MapReduce.Storage.Catalog;

namespace MapReduce.Storage.Identity;

/// <summary>
/// The one-row table <c>mapreduce_store_identity</c> that names a database (a journal or a
/// catalog). The row is created the first time any node opens the database; several processes
/// starting at once on one database all read the row the first of them inserted.
/// </summary>
public static class StoreIdentityTable
{
    public const string TableName = "mapreduce_store_identity";

    /// <summary>Reads the database's id, creating the table and its row when missing.</summary>
    public static StoreIdentity ReadOrCreate(SqlLocation location, string where)
    {
        if (location.SqliteFilePath is { } file) Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        using var db = new DataConnection(new DataOptions().UseConnectionString(location.Linq2DbProvider, location.ConnectionString));
        // The CHECK keeps it to one row; ON CONFLICT makes concurrent first starts agree (SQLite
        // 3.24+ and PostgreSQL 9.5+ both have it).
        db.Execute($"CREATE TABLE IF NOT EXISTS {TableName} (singleton INTEGER NOT NULL PRIMARY KEY CHECK (singleton = 1), store_id TEXT NOT NULL)");
        db.Execute($"INSERT INTO {TableName} (singleton, store_id) VALUES (1, @id) ON CONFLICT (singleton) DO NOTHING",
            new DataParameter("id", Guid.NewGuid().ToString("D")));
        var id = db.Query<string>($"SELECT store_id FROM {TableName} WHERE singleton = 1").Single();
        return new StoreIdentity(Guid.Parse(id), where);
    }
}
