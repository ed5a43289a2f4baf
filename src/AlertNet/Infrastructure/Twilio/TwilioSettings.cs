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
    Uri ApiBaseUrl,
    bool DrillChosen = false)
{
    /// <summary>The phone simulator lets staff text as any number, enough to send an alert as an organizer's phone:
    /// it exists only in a drill someone asked for (AlertNet:Mode=drill), never in one that just lacks credentials.</summary>
    public bool HasPhoneSimulator => IsDrill && DrillChosen;

    /// <summary>Outside Development, a server without credentials must not quietly become a drill: someone forgot
    /// the Twilio settings, and organizers would believe their alerts go out.</summary>
    public static string? RefusalToServe(AlertNetOptions app, TwilioSettings settings, bool isDevelopment) =>
        settings.IsDrill && app.Mode != "drill" && !isDevelopment
            ? "AlertNet refuses to start: no Twilio credentials (Twilio:AccountSid, Twilio:AuthToken) are set and AlertNet:Mode is "
              + $"'{app.Mode}', not 'drill'. Outside the Development environment drill mode (the carrier simulator, no real text sent) "
              + "runs only when asked for: set AlertNet:Mode=drill (AlertNet__Mode=drill) for a drill, or the Twilio credentials "
              + "and AlertNet:Mode=live to send."
            : null;

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
            new Uri(twilio.ApiBaseUrl ?? new Uri(app.PublicUri, SimulatorPath).ToString()), DrillChosen: app.Mode == "drill");
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
