using System.Text.RegularExpressions;
using MapReduce.Actors.Master;
using MapReduce.Actors.Protocol;

namespace MapReduce.Tests.Master;

/// <summary>Job ids carry their second and 6 random hex digits: the issuer keeps them unique within a second and apart from the jobs that exist.</summary>
public sealed class JobIdIssuerTests
{
    private static readonly DateTime Now = new(2026, 11, 30, 8, 0, 0, 750, DateTimeKind.Utc);

    [Fact]
    public void An_id_names_its_second()
    {
        var id = new JobIdIssuer().Next(Now, _ => false);
        Assert.Matches(new Regex("^job-20261130-080000-[0-9a-f]{6}$"), id.Value);
    }

    /// <summary>
    /// 20,000 ids of 6 hex digits drawn within one second collide about 12 times on average (the chance of
    /// none is below 1 in 100,000): without the issuer's memory of the second, this fails.
    /// </summary>
    [Fact]
    public void Ids_issued_within_the_same_second_are_unique()
    {
        var issuer = new JobIdIssuer();
        var ids = Enumerable.Range(0, 20_000).Select(i => issuer.Next(Now.AddTicks(i), _ => false)).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id => Assert.StartsWith("job-20261130-080000-", id.Value));
    }

    [Fact]
    public void An_id_of_a_job_that_exists_is_not_issued()
    {
        var offered = new List<JobId>();
        var id = new JobIdIssuer().Next(Now, candidate =>
        {
            offered.Add(candidate);
            return offered.Count <= 3; // the first three are taken
        });
        Assert.Equal(4, offered.Count);
        Assert.Equal(offered[3], id);
        Assert.DoesNotContain(id, offered.Take(3));
    }

    [Fact]
    public void Each_second_has_its_own_ids()
    {
        var issuer = new JobIdIssuer();
        var first = issuer.Next(Now, _ => false);
        var next = issuer.Next(Now.AddSeconds(1), _ => false);
        Assert.StartsWith("job-20261130-080000-", first.Value);
        Assert.StartsWith("job-20261130-080001-", next.Value);
    }
}
