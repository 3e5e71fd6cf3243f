using Akka.Configuration;

namespace MapReduce.Actors.Master;

/// <summary>When a straggler gets a backup attempt (mapreduce.master.backup-tasks; see <see cref="Speculation"/>).</summary>
/// <param name="Enabled">Whether backups are launched at all.</param>
/// <param name="SlowerThan">A running attempt is a straggler past this many times the median runtime of its phase's finished tasks.</param>
/// <param name="MinRuntime">... and past this runtime.</param>
/// <param name="AfterDone">The fraction of its phase's tasks that must have finished first.</param>
public sealed record BackupTaskSettings(bool Enabled, double SlowerThan, TimeSpan MinRuntime, double AfterDone)
{
    /// <summary>No backups (settings built in code without the HOCON; the defaults are in hocon/mapreduce.hocon).</summary>
    public static readonly BackupTaskSettings Off = new(false, double.PositiveInfinity, TimeSpan.MaxValue, 1);

    public static BackupTaskSettings From(Config section)
    {
        var settings = new BackupTaskSettings(
            section.GetBoolean("enabled"), section.GetDouble("slower-than"), section.GetTimeSpan("min-runtime"), section.GetDouble("after-done"));
        if (settings.SlowerThan < 1) throw new ConfigurationException($"mapreduce.master.backup-tasks.slower-than must be at least 1, not {settings.SlowerThan}");
        if (settings.AfterDone is < 0 or > 1) throw new ConfigurationException($"mapreduce.master.backup-tasks.after-done must be between 0 and 1, not {settings.AfterDone}");
        return settings;
    }
}
