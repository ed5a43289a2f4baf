using PhoneNumbers;

namespace AlertNet.Privacy;

/// <summary>A subscriber address as Twilio gives it: an E.164 number on SMS, or
/// <c>whatsapp:+E164</c> on WhatsApp.</summary>
public sealed record SubscriberAddress(string Channel, string E164)
{
    public const string Sms = "sms";
    public const string WhatsApp = "whatsapp";
    public const string WhatsAppPrefix = "whatsapp:";

    /// <summary>The address to hand back to Twilio when sending.</summary>
    public string TwilioAddress => Channel == WhatsApp ? WhatsAppPrefix + E164 : E164;

    /// <summary>Parses and validates with libphonenumber; null when the text is not a usable number.</summary>
    public static SubscriberAddress? TryParse(string? raw, string defaultRegion)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        var channel = Sms;
        var number = raw.Trim();
        if (number.StartsWith(WhatsAppPrefix, StringComparison.OrdinalIgnoreCase))
        {
            channel = WhatsApp;
            number = number[WhatsAppPrefix.Length..];
        }

        try
        {
            var util = PhoneNumberUtil.GetInstance();
            var parsed = util.Parse(number, defaultRegion);
            return util.IsPossibleNumber(parsed)
                ? new SubscriberAddress(channel, util.Format(parsed, PhoneNumberFormat.E164))
                : null;
        }
        catch (NumberParseException)
        {
            return null;
        }
    }
}
