using Akka.Actor;
using Akka.TestKit;
using MapReduce.Actors.Hosting;
using MapReduce.Actors.StoreCheck;
using MapReduce.Storage.Identity;
using Xunit.Abstractions;
using static MapReduce.Actors.StoreCheck.StoreCheckProtocol;

namespace MapReduce.Tests.StoreCheck;

/// <summary>
/// The store check a joining node runs against the older members (test probes here): the older
/// member's journal and catalog are the cluster's, and a node whose own differ is refused with one
/// line that says what to set.
/// </summary>
public sealed class StoreCheckActorTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly StoreIdentity SharedJournal = new(Guid.Parse("11111111-aaaa-4aaa-8aaa-000000000001"), "the PostgreSQL database mr_journal on db:5432");
    private static readonly StoreIdentity SharedCatalog = new(Guid.Parse("22222222-bbbb-4bbb-8bbb-000000000002"), "the PostgreSQL database mr_catalog on db:5432");
    private static readonly StoreIdentity OwnJournal = new(Guid.Parse("33333333-cccc-4ccc-8ccc-000000000003"), "the SQLite file /var/mr/journal.db on 10.0.0.3");
    private static readonly StoreIdentity OwnCatalog = new(Guid.Parse("44444444-dddd-4ddd-8ddd-000000000004"), "the SQLite file /var/mr/catalog.db on 10.0.0.3");

    private static readonly NodeStores OlderMaster = new([NodeRoles.Master], SharedJournal, SharedCatalog);
    private static readonly NodeStores Kvstore = new([NodeRoles.KvStore], null, SharedCatalog);

    /// <summary>Receives each reason the check refuses this node with.</summary>
    private readonly TestProbe _refusals;

    public StoreCheckActorTests(ITestOutputHelper output) : base("akka.loglevel = WARNING", output) => _refusals = CreateTestProbe();

    private IActorRef StartCheck(NodeStores mine)
    {
        var refusals = _refusals.Ref;
        return Sys.ActorOf(StoreCheckActor.Props(mine, reason => refusals.Tell(reason), checkWhenUp: false));
    }

    /// <summary>Has <paramref name="check"/> ask each probe, and answers for it with its stores.</summary>
    private void AnswerAs(IActorRef check, params (TestProbe Probe, NodeStores Stores)[] olderMembers)
    {
        check.Tell(new CheckAgainst([.. olderMembers.Select(m => m.Probe.Ref.Path)]));
        foreach (var (probe, stores) in olderMembers)
        {
            probe.ExpectMsg<WhichStores>();
            probe.Reply(stores);
        }
    }

    /// <summary>Every answer already sent to <paramref name="check"/> has been handled once it answers a question sent after them.</summary>
    private void AssertNotRefused(IActorRef check, NodeStores mine)
    {
        check.Tell(new WhichStores(), TestActor);
        Assert.Equal(mine, ExpectMsg<NodeStores>());
        _refusals.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public void A_master_on_the_clusters_journal_and_catalog_is_not_refused_however_their_location_is_spelled()
    {
        var mine = new NodeStores([NodeRoles.Master], SharedJournal with { Where = "the PostgreSQL database mr_journal on db.internal:5432" }, SharedCatalog);
        var check = StartCheck(mine);
        AnswerAs(check, (CreateTestProbe(), Kvstore), (CreateTestProbe(), OlderMaster));
        AssertNotRefused(check, mine);
    }

    [Fact]
    public void A_master_with_its_own_journal_is_refused_with_what_to_set_once_however_many_older_masters_answer()
    {
        var check = StartCheck(new NodeStores([NodeRoles.Master], OwnJournal, SharedCatalog));
        AnswerAs(check, (CreateTestProbe(), Kvstore), (CreateTestProbe(), OlderMaster), (CreateTestProbe(), OlderMaster));

        Assert.Equal(
            "this master's journal is the SQLite file /var/mr/journal.db on 10.0.0.3 (id 33333333) but the cluster's masters use " +
            "the PostgreSQL database mr_journal on db:5432 (id 11111111): give every master the same --journal (mapreduce.journal)",
            _refusals.ExpectMsg<string>());
        _refusals.ExpectNoMsg(TimeSpan.Zero);
        check.Tell(new WhichStores(), TestActor);
        ExpectMsg<NodeStores>();
        _refusals.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public void A_master_with_its_own_catalog_is_refused_by_the_kvstores_answer_alone()
    {
        var check = StartCheck(new NodeStores([NodeRoles.Master], OwnJournal, OwnCatalog));
        AnswerAs(check, (CreateTestProbe(), Kvstore));

        Assert.Equal(
            "this master's catalog is the SQLite file /var/mr/catalog.db on 10.0.0.3 (id 44444444) but the cluster's kvstore uses " +
            "the PostgreSQL database mr_catalog on db:5432 (id 22222222): give the kvstore and every master the same --catalog (mapreduce.catalog)",
            _refusals.ExpectMsg<string>());
    }

    [Fact]
    public void A_kvstore_that_joins_after_the_masters_with_another_catalog_is_the_one_refused()
    {
        var check = StartCheck(new NodeStores([NodeRoles.KvStore], null, OwnCatalog));
        AnswerAs(check, (CreateTestProbe(), OlderMaster));

        Assert.Equal(
            "this kvstore's catalog is the SQLite file /var/mr/catalog.db on 10.0.0.3 (id 44444444) but the cluster's master uses " +
            "the PostgreSQL database mr_catalog on db:5432 (id 22222222): give the kvstore and every master the same --catalog (mapreduce.catalog)",
            _refusals.ExpectMsg<string>());
    }

    [Fact]
    public void A_kvstore_does_not_compare_journals_it_has_none()
    {
        var mine = new NodeStores([NodeRoles.KvStore], null, SharedCatalog);
        var check = StartCheck(mine);
        AnswerAs(check, (CreateTestProbe(), new NodeStores([NodeRoles.Master], OwnJournal, SharedCatalog)));
        AssertNotRefused(check, mine);
    }

    [Fact]
    public void A_node_answers_which_stores_it_uses()
    {
        var mine = new NodeStores([NodeRoles.KvStore, NodeRoles.Master], SharedJournal, SharedCatalog);
        var check = StartCheck(mine);
        var asker = CreateTestProbe();
        check.Tell(new WhichStores(), asker.Ref);
        Assert.Equal(mine, asker.ExpectMsg<NodeStores>());
    }
}
