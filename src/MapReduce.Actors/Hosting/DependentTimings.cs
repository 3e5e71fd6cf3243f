namespace MapReduce.Actors.Hosting;

/// <summary>
/// Waits of different sections that only work together: why they contradict each other (one line
/// naming both keys and their values), or null. A node (and a CLI command) refuses to start on it.
/// </summary>
public static class DependentTimings
{
    /// <summary>What the control API adds to mapreduce.master.long-poll before a held status question is answered 503, so that a poll lost in a take-over is soon asked again: a margin over a setting, not one itself.</summary>
    public static readonly TimeSpan LongPollMargin = TimeSpan.FromSeconds(2);

    public static string? Problem(MapReduceSettings s)
    {
        var api = s.ControlApi;
        var master = s.Master;
        if (api.MasterTimeout <= master.JournalBatchDelay)
            return $"mapreduce.http.master-timeout ({Durations.Format(api.MasterTimeout)}) must be longer than mapreduce.master.journal-batch-delay ({Durations.Format(master.JournalBatchDelay)}): " +
                   "the master answers a command once it is journaled";
        if (api.SlowCommandTimeout <= 2 * master.KvStoreTimeout)
            return $"mapreduce.http.slow-command-timeout ({Durations.Format(api.SlowCommandTimeout)}) must be longer than twice mapreduce.master.kvstore-timeout ({Durations.Format(master.KvStoreTimeout)}): " +
                   "a dataset's deletion finds the kvstore and waits for its answer, each up to kvstore-timeout";
        var request = $"mapreduce.client.request-timeout ({Durations.Format(s.Client.RequestTimeout)})";
        if (s.Client.RequestTimeout <= api.SlowCommandTimeout)
            return $"{request} must be longer than mapreduce.http.slow-command-timeout ({Durations.Format(api.SlowCommandTimeout)}): " +
                   "the CLI would give up on a submission the cluster still works on, and send it again";
        if (s.Client.RequestTimeout <= master.LongPoll + LongPollMargin)
            return $"{request} must be longer than mapreduce.master.long-poll ({Durations.Format(master.LongPoll)}) + {Durations.Format(LongPollMargin)}: " +
                   "the control API holds a status question that long";
        if (s.TempSweep.AbandonedAfter <= s.KvStoreClient.IdleTimeout)
            return $"mapreduce.kvstore.abandoned-after ({Durations.Format(s.TempSweep.AbandonedAfter)}) must be longer than mapreduce.kvstore.idle-timeout ({Durations.Format(s.KvStoreClient.IdleTimeout)}): " +
                   "the temp file of a transfer that is only stalled would be deleted under it";
        return null;
    }
}
