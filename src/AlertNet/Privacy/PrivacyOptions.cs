using System.ComponentModel.DataAnnotations;

namespace AlertNet.Privacy;

/// <summary>The "Privacy" configuration section.</summary>
public sealed class PrivacyOptions
{
    public const string Section = "Privacy";

    /// <summary>Days after which who-received-what, inbound texts and hotline reports are deleted.</summary>
    [Range(1, 3650)]
    public int RetentionDays { get; set; } = 30;

    /// <summary>Rows one retention, purge or rotation statement changes: small transactions, so the
    /// service keeps running beside them on tables of millions of rows.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 5000;

    /// <summary>Hangfire cron expression of the daily retention run (UTC).</summary>
    [Required]
    public string RetentionCron { get; set; } = "30 3 * * *";
}
