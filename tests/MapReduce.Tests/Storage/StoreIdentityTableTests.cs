using MapReduce.Storage.Catalog;
using MapReduce.Storage.Identity;
using MapReduce.Tests.Support;

namespace MapReduce.Tests.Storage;

/// <summary>The id written once into a journal or catalog database, on real SQLite files.</summary>
public sealed class StoreIdentityTableTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Nodes_starting_at_once_on_one_database_all_read_the_id_the_first_one_wrote_and_it_stays()
    {
        var location = SqlLocation.SqliteFile(_folder.File("journal.db"));
        var ids = Enumerable.Range(0, 6).AsParallel().WithDegreeOfParallelism(6)
            .Select(_ => StoreIdentityTable.ReadOrCreate(location, "here").Id).ToList();

        Assert.Single(ids.Distinct());
        Assert.Equal(ids[0], StoreIdentityTable.ReadOrCreate(SqlLocation.Parse(_folder.File("journal.db")), "there").Id);
    }

    [Fact]
    public void Two_databases_have_different_ids()
    {
        var first = StoreIdentityTable.ReadOrCreate(SqlLocation.SqliteFile(_folder.File("a/journal.db")), "a");
        var second = StoreIdentityTable.ReadOrCreate(SqlLocation.SqliteFile(_folder.File("b/journal.db")), "b");

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal($"a (id {first.Id.ToString("N")[..8]})", first.ToString());
    }

    [Fact]
    public void A_location_is_described_by_file_and_node_or_by_database_and_server_never_with_its_password()
    {
        Assert.Equal($"the SQLite file {_folder.File("journal.db")} on 10.0.0.3", SqlLocation.Parse(_folder.File("journal.db")).Describe("10.0.0.3"));
        Assert.Equal("the PostgreSQL database mr_journal on db.internal:5433",
            SqlLocation.Parse("postgres:Host=db.internal;Port=5433;Database=mr_journal;Username=mr;Password=secret").Describe("10.0.0.3"));
    }
}
