using System.ComponentModel.DataAnnotations;

namespace AlertNet.Alerts;

/// <summary>The "Alerts" configuration section.</summary>
public sealed class AlertsOptions
{
    public const string Section = "Alerts";

    /// <summary>An alert to more recipients than this waits for a second organizer's approval. 0: never.</summary>
    [Range(0, int.MaxValue)]
    public int ApprovalThreshold { get; set; } = 1000;
}
