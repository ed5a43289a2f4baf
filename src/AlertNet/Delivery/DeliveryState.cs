namespace AlertNet.Delivery;

/// <summary>A delivery's states, in rank order. A state only moves forward (see delivery_state_rank in
/// the first migration): a late "sent" never overwrites "delivered", and a repeated callback is a no-op.
/// pending → sending (claimed, with a lease) → accepted (Twilio SID known) → sent → a terminal state.</summary>
public static class DeliveryState
{
    public const string Pending = "pending";
    public const string Sending = "sending";
    public const string Accepted = "accepted";
    public const string Sent = "sent";
    public const string Delivered = "delivered";
    public const string Undelivered = "undelivered";
    public const string Failed = "failed";
    public const string Skipped = "skipped";
    public const string Expired = "expired";
    public const string Cancelled = "cancelled";

    /// <summary>The carrier took it (sent) and never said whether it arrived; AlertNet stopped asking.</summary>
    public const string SentNoReceipt = "sent_no_receipt";

    public static readonly string[] All =
        [Pending, Sending, Accepted, Sent, Delivered, Undelivered, Failed, Skipped, Expired, Cancelled, SentNoReceipt];

    /// <summary>The states nothing more happens to.</summary>
    public static readonly string[] Final = [Delivered, Undelivered, Failed, Skipped, Expired, Cancelled, SentNoReceipt];

    /// <summary>The same order as delivery_state_rank in SQL, which has the last word.</summary>
    public static int Rank(string state) => state switch
    {
        Pending => 0,
        Sending => 1,
        Accepted => 2,
        Sent => 3,
        _ => 4,
    };

    /// <summary>Twilio's MessageStatus values (every one its API documents) mapped onto ours; null for one that says
    /// nothing about an outbound message (receiving, received) or that we do not know.</summary>
    public static string? FromTwilio(string? status) => status?.ToLowerInvariant() switch
    {
        "queued" or "accepted" or "scheduled" or "sending" => Accepted,
        "sent" => Sent,
        "delivered" or "read" or "partially_delivered" => Delivered,
        "undelivered" => Undelivered,
        "failed" => Failed,
        "canceled" => Cancelled,
        _ => null,
    };
}
