using System.ComponentModel.DataAnnotations;

namespace AlertNet.Carrier;

/// <summary>How AlertNet treats the provider, in the "Twilio" configuration section beside the credentials.</summary>
public sealed class CarrierOptions
{
    public const string Section = "Twilio";

    /// <summary>Delete each message at the provider once it is final (and each inbound message once processed), so
    /// the provider's message log does not keep who got what. On by default; off only where the operator must keep
    /// the provider's records (the README says what that costs).</summary>
    public bool DeleteMessages { get; set; } = true;

    /// <summary>Ask the provider not to keep bodies and to obfuscate numbers (ContentRetention=discard,
    /// AddressRetention=obfuscate on every message). Only for an account with Message Redaction enabled: see README.</summary>
    public bool RedactMessages { get; set; }

    /// <summary>Deletion requests per second per process (the provider's API limits are per account).</summary>
    [Range(0.1, 1000)]
    public double DeletesPerSecond { get; set; } = 100;

    /// <summary>Deletion requests in flight per process: few, so deletions never take the connections sends need.</summary>
    [Range(1, 64)]
    public int DeleteConcurrency { get; set; } = 8;

    /// <summary>Outage failures in a row (connection refused, timeouts, 5xx) that open a sender's circuit.</summary>
    [Range(1, 1000)]
    public int CircuitFailures { get; set; } = 5;

    /// <summary>The longest pause between probes while a sender's circuit is open: how soon recovery is noticed.</summary>
    [Range(1, 300)]
    public int CircuitMaxPauseSeconds { get; set; } = 5;

    /// <summary>How long an inbound webhook waits for its reply to be handed to the provider before answering
    /// (the reply still goes out later if this runs out).</summary>
    [Range(0, 30)]
    public double ReplyWaitSeconds { get; set; } = 3;
}
