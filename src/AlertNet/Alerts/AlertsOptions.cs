using System.ComponentModel.DataAnnotations;

namespace AlertNet.Alerts;

/// <summary>The "Alerts" configuration section.</summary>
public sealed class AlertsOptions
{
    public const string Section = "Alerts";

    /// <summary>An alert to more recipients than this waits for a second organizer's approval. 0: never.</summary>
    [Range(0, int.MaxValue)]
    public int ApprovalThreshold { get; set; } = 1000;

    /// <summary>Runs of a recurring campaign must be at least this far apart; schedules that run more often are refused.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "31.00:00:00")]
    public TimeSpan CampaignMinimumInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>ALERT proposals one organizer phone may make per hour (each makes a code); beyond it the phone is told
    /// to wait and its live code stays as it was.</summary>
    [Range(1, 1000)]
    public int SmsProposalsPerHour { get; set; } = 5;

    /// <summary>An urgent alert sent as unverified (or with no verification recorded) waits for a second organizer
    /// whatever its size. Off by default: a network that answers raids in minutes may not have a second organizer at
    /// hand; one that has suffered false alarms turns it on.</summary>
    public bool UnverifiedUrgentNeedsApproval { get; set; }

    /// <summary>An urgent alert sent without an expiry expires this long after it goes out: a raid warning read hours
    /// later sends people the wrong way. The provider drops copies still queued at the expiry (ValidityPeriod), and
    /// none is sent after it. 0: no default.</summary>
    [Range(0, 10080)]
    public int DefaultUrgentExpiryMinutes { get; set; } = 360;
}
