namespace AlertNet.Infrastructure.Twilio.Drill;

/// <summary>A message as the drill-mode carrier holds it: the latest state of one Twilio Message resource.</summary>
public sealed record SimulatedMessage
{
    public required string Sid { get; init; }

    public required string AccountSid { get; init; }

    public required string To { get; init; }

    /// <summary>Null while a Messaging Service has not yet picked a sender, as at Twilio.</summary>
    public string? From { get; init; }

    public string? MessagingServiceSid { get; init; }

    public string? Body { get; init; }

    public string? ContentSid { get; init; }

    public string? ContentVariables { get; init; }

    /// <summary>The callback URL exactly as given: the signature covers this string, so it must not be normalized.</summary>
    public string? StatusCallback { get; init; }

    public int? ValidityPeriod { get; init; }

    public required string Status { get; init; }

    /// <summary>outbound-api (sent through the REST API), inbound (texted by a handset) or outbound-reply (a TwiML reply).</summary>
    public string Direction { get; init; } = "outbound-api";

    /// <summary>Sent with ContentRetention=discard: the carrier delivers the body but keeps none (the API shows it empty).</summary>
    public bool BodyDiscarded { get; init; }

    public int? ErrorCode { get; init; }

    public string? ErrorMessage { get; init; }

    public required int Segments { get; init; }

    public required DateTimeOffset DateCreated { get; init; }

    public required DateTimeOffset DateUpdated { get; init; }

    public DateTimeOffset? DateSent { get; init; }

    /// <summary>Acceptance order; lists are newest first, as at Twilio, and page tokens point into this order.</summary>
    internal long Sequence { get; init; }

    // The generated record ToString would print the number and the body into any log that formats this object.
    public override string ToString() => $"SimulatedMessage {{ Sid = {Sid}, Status = {Status} }}";

    /// <summary>Whether the provider would let it be deleted: it has reached a status that does not change any more.
    /// A message at "sent" is not: the carrier's receipt may still come (Twilio waits up to 14 days for it).</summary>
    public bool IsFinal => Status is "delivered" or "undelivered" or "failed" or "received" or "read" or "canceled";
}
