namespace AlertNet.Infrastructure.Twilio;

/// <summary>The "Twilio" configuration section. With no AccountSid and AuthToken, AlertNet runs in drill mode.</summary>
public sealed class TwilioOptions
{
    public const string Section = "Twilio";

    public string? AccountSid { get; set; }

    public string? AuthToken { get; set; }

    public string? MessagingServiceSid { get; set; }

    public string? From { get; set; }

    /// <summary>Any Twilio-compatible endpoint may stand in for Twilio's API, in live mode too.
    /// Default: Twilio's own, or in drill mode AlertNet's built-in carrier simulator.</summary>
    public string? ApiBaseUrl { get; set; }

    /// <summary>The drill simulator's auth token, so an outside tool can sign inbound webhooks.
    /// Generated (and kept in the drill key file) when unset.</summary>
    public string? DrillAuthToken { get; set; }

    /// <summary>How long a request to Twilio's API may take before AlertNet gives up on the answer (and
    /// reconciles the send later: the message may have been accepted).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 300)]
    public int RequestTimeoutSeconds { get; set; } = 15;

    /// <summary>The drill simulator's injected faults (chaos rehearsals and tests; none by default).</summary>
    public Drill.CarrierFaults DrillFaults { get; set; } = new();
}
