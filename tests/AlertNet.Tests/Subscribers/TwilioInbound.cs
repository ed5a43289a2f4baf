using AlertNet.Infrastructure.Twilio;

namespace AlertNet.Tests.Subscribers;

/// <summary>Inbound webhook payloads shaped like the ones Twilio posts (every field Twilio sends for a
/// plain text message), for SMS and for WhatsApp. Numbers are fictional: +1 202 555 01xx.</summary>
public static class TwilioInbound
{
    private const string AccountSid = TwilioSettings.DrillAccountSid;
    private const string MessagingServiceSid = "MG0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d";

    public static string Number(int n) => $"+1202555{n:0000}";

    public static Dictionary<string, string> For(string from, string body, string? optOutType = null) =>
        from.StartsWith("whatsapp:", StringComparison.Ordinal) ? WhatsApp(from["whatsapp:".Length..], body) : Sms(from, body, optOutType);

    public static Dictionary<string, string> Sms(string from, string body, string? optOutType = null)
    {
        var sid = NewSid();
        var fields = new Dictionary<string, string>
        {
            ["ToCountry"] = "US",
            ["ToState"] = "DC",
            ["SmsMessageSid"] = sid,
            ["NumMedia"] = "0",
            ["ToCity"] = "WASHINGTON",
            ["FromZip"] = "20001",
            ["SmsSid"] = sid,
            ["FromState"] = "DC",
            ["SmsStatus"] = "received",
            ["FromCity"] = "WASHINGTON",
            ["Body"] = body,
            ["FromCountry"] = "US",
            ["To"] = TwilioSettings.DrillFrom,
            ["MessagingServiceSid"] = MessagingServiceSid,
            ["ToZip"] = "20001",
            ["NumSegments"] = "1",
            ["MessageSid"] = sid,
            ["AccountSid"] = AccountSid,
            ["From"] = from,
            ["ApiVersion"] = "2010-04-01",
        };
        if (optOutType is not null)
        {
            fields["OptOutType"] = optOutType;
        }

        return fields;
    }

    public static Dictionary<string, string> WhatsApp(string e164, string body)
    {
        var sid = NewSid();
        return new Dictionary<string, string>
        {
            ["SmsMessageSid"] = sid,
            ["NumMedia"] = "0",
            ["ProfileName"] = "Vecina",
            ["MessageType"] = "text",
            ["SmsSid"] = sid,
            ["WaId"] = e164.TrimStart('+'),
            ["SmsStatus"] = "received",
            ["Body"] = body,
            ["To"] = "whatsapp:" + TwilioSettings.DrillFrom,
            ["NumSegments"] = "1",
            ["ReferralNumMedia"] = "0",
            ["MessageSid"] = sid,
            ["AccountSid"] = AccountSid,
            ["From"] = "whatsapp:" + e164,
            ["ApiVersion"] = "2010-04-01",
        };
    }

    private static string NewSid() => "SM" + Guid.NewGuid().ToString("N");
}
