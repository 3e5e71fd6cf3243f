using MapReduce.Actors.Protocol;
using MapReduce.Storage.Catalog;
using static MapReduce.Actors.Protocol.MasterProtocol;

namespace MapReduce.Actors.Master;

/// <summary>
/// Checks a submitted job against the catalog and plans its map tasks, off the master's thread
/// (SQL may take milliseconds, or seconds on a remote PostgreSQL). Every limit is refused here,
/// before anything is journaled, with a message that says which and why.
/// </summary>
public static class JobAdmission
{
    /// <summary>
    /// The outcome: either the planned map tasks or the reason the job is refused. An incremental job
    /// has its <see cref="Lineage"/>, and <see cref="ReusedJob"/> when nothing changed since that job.
    /// </summary>
    public sealed record Admitted(MapInput[] Maps, string? Problem, string? Lineage = null, string? ReusedJob = null);

    public static Admitted Check(CatalogStore catalog, MasterSettings settings, SubmitJob m)
    {
        if (m.Reducers < 1 || m.Reducers > settings.MaxReducers)
            return Refused($"--reducers must be between 1 and {settings.MaxReducers}, not {m.Reducers}");
        try
        {
            if (catalog.GetDataset(m.DatasetId) is not { } dataset) return Refused($"dataset '{m.DatasetId}' is not in the store");
            if (catalog.GetCode(m.CodeId) is null) return Refused($"code '{m.CodeId}' is not in the store");
            if (m.Incremental && dataset.Kind != DatasetKind.Input)
                return Refused($"dataset '{m.DatasetId}' is a job's result: --incremental applies to uploaded input (--data FOLDER --incremental)");
            IncrementalPlan? incremental = null;
            if (m.Incremental)
            {
                var (plan, problem) = IncrementalPlan.Of(catalog, dataset, m.CodeId, m.Reducers, settings.SplitSize);
                if (problem is not null) return Refused(problem);
                incremental = plan;
            }
            var maps = incremental?.Maps ?? MapSplits.Plan(catalog.GetChunks(m.DatasetId), settings.SplitSize);
            if (maps.Length > settings.MaxMapTasks)
                return Refused($"dataset '{m.DatasetId}' makes {maps.Length} map tasks, more than the {settings.MaxMapTasks} a job may have " +
                    "(mapreduce.master.max-map-tasks: each reduce task is told which run of every map to read, in one message); " +
                    "raise mapreduce.split-size so that small files share map tasks, or --block-size for fewer, larger chunks");
            return new Admitted(maps, null, incremental?.Lineage, incremental?.ReusedJob);
        }
        catch (Exception e) when (e is LinqToDB.LinqToDBException or System.Data.Common.DbException)
        {
            return Refused($"the catalog cannot be read: {e.Message}");
        }
    }

    private static Admitted Refused(string problem) => new([], problem);
}
