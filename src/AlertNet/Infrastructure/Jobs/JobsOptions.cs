using System.ComponentModel.DataAnnotations;

namespace AlertNet.Infrastructure.Jobs;

/// <summary>The "Jobs" configuration section (Hangfire).</summary>
public sealed class JobsOptions
{
    public const string Section = "Jobs";

    /// <summary>Hangfire.PostgreSql keeps a distributed lock as a row in <c>hangfire.lock</c> and removes a row older
    /// than this when someone else asks for the lock; nothing removes it sooner when its holder was killed. So this is
    /// how long a dead process's lock can block others (Hangfire.PostgreSql's default: 10 minutes). The locks in use are
    /// held briefly (a scheduler pass, one recurring job's update, one state change; Hangfire.PostgreSql's clean-up for a
    /// pass over one table); a holder still alive after this long can have its lock taken over, which for every lock in
    /// use only means the same housekeeping twice.</summary>
    [Range(10, 3600)]
    public int DistributedLockTimeoutSeconds { get; set; } = 60;

    /// <summary>Pause between tries to register a recurring job at start (a try waits up to 15 s for the job's lock).</summary>
    [Range(1, 3600)]
    public int RecurringJobRetrySeconds { get; set; } = 5;
}
