namespace AlertNet.Alerts;

/// <summary>An alert's states (alerts.state). awaiting_approval → queued (approved) or rejected;
/// queued → sending (fanned out) → done (handed to Twilio in full); cancelled from any unfinished state.</summary>
public static class AlertStates
{
    public const string AwaitingApproval = "awaiting_approval";
    public const string Queued = "queued";
    public const string Sending = "sending";
    public const string Done = "done";
    public const string Cancelled = "cancelled";
    public const string Rejected = "rejected";

    /// <summary>Nothing more will be sent: the alert's own work is over (callbacks may still be arriving).</summary>
    public static bool IsFinished(string state) => state is Done or Cancelled or Rejected;
}
