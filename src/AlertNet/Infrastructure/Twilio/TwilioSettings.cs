using AlertNet.Hosting;
using AlertNet.Privacy;

namespace AlertNet.Infrastructure.Twilio;

/// <summary>The Twilio account AlertNet actually uses, resolved once at start-up from configuration:
/// live credentials, or drill mode with the built-in carrier simulator.</summary>
public sealed record TwilioSettings(
    bool IsDrill,
    string AccountSid,
    string AuthToken,
    string? MessagingServiceSid,
    string? From,
    Uri ApiBaseUrl)
{
    public const string TwilioApi = "https://api.twilio.com";
    public const string SimulatorPath = "drill/twilio";

    /// <summary>Drill mode's account: any SID works against the simulator; this one is obviously fake.</summary>
    public const string DrillAccountSid = "ACd0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0";

    /// <summary>Twilio's own magic "valid sender" test number.</summary>
    public const string DrillFrom = Drill.DrillMagicNumbers.ServiceSender;

    public static TwilioSettings Resolve(AlertNetOptions app, TwilioOptions twilio)
    {
        var hasSid = !string.IsNullOrWhiteSpace(twilio.AccountSid);
        var hasToken = !string.IsNullOrWhiteSpace(twilio.AuthToken);
        if (hasSid != hasToken)
        {
            throw new InvalidOperationException("Set both Twilio:AccountSid and Twilio:AuthToken, or neither (drill mode).");
        }

        var live = hasSid && hasToken;
        if (live && app.Mode == "drill")
        {
            throw new InvalidOperationException("Drill mode cannot run with real Twilio credentials: remove them or set AlertNet:Mode=live.");
        }

        if (!live && app.Mode == "live")
        {
            throw new InvalidOperationException("AlertNet:Mode=live needs Twilio:AccountSid and Twilio:AuthToken.");
        }

        if (live)
        {
            if (string.IsNullOrWhiteSpace(twilio.MessagingServiceSid) && string.IsNullOrWhiteSpace(twilio.From))
            {
                throw new InvalidOperationException("Live mode needs Twilio:MessagingServiceSid or Twilio:From.");
            }

            return new TwilioSettings(false, twilio.AccountSid!, twilio.AuthToken!, Blank(twilio.MessagingServiceSid), Blank(twilio.From),
                new Uri(twilio.ApiBaseUrl ?? TwilioApi));
        }

        var token = Blank(twilio.DrillAuthToken)
            ?? KeyFile.ReadOrCreateForDrill(app.KeyFile ?? KeyFile.DefaultDrillPath).DrillAuthToken!;
        return new TwilioSettings(true, DrillAccountSid, token, Blank(twilio.MessagingServiceSid), Blank(twilio.From) ?? DrillFrom,
            new Uri(twilio.ApiBaseUrl ?? new Uri(app.PublicUri, SimulatorPath).ToString()));
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
