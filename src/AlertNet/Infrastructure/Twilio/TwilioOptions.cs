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
}
