namespace AlertNet.Infrastructure.Twilio.Drill;

/// <summary>
/// Recipient numbers that make the drill-mode carrier produce the outcomes AlertNet must handle. Where Twilio's
/// own test credentials define a number for an outcome, the same number is used, so rehearsals carry over.
/// Every other number is accepted, then reported sent and delivered.
/// </summary>
public static class DrillMagicNumbers
{
    /// <summary>Twilio's test number for an invalid To: the API answers 400 with code 21211.</summary>
    public const string InvalidNumber = "+15005550001";

    /// <summary>Twilio's test number for a To the sender cannot route to: 400 with code 21612.</summary>
    public const string CannotRoute = "+15005550002";

    /// <summary>Twilio's test number for a country without SMS permission: 400 with code 21408.</summary>
    public const string RegionNotEnabled = "+15005550003";

    /// <summary>Twilio's test number for a recipient who texted STOP: 400 with code 21610.</summary>
    public const string OptedOut = "+15005550004";

    /// <summary>Twilio's test number for a To that cannot receive SMS (landline): 400 with code 21614.</summary>
    public const string NotMobile = "+15005550009";

    /// <summary>Accepted and sent, then undelivered with 30003 (handset unreachable), the transient failure.</summary>
    public const string Unreachable = "+15005550030";

    /// <summary>Accepted, then failed with 30006 (landline or unreachable carrier), the permanent failure.</summary>
    public const string LandlineOrUnreachableCarrier = "+15005550060";

    /// <summary>Accepted and sent, and then no delivery receipt ever (as with carriers that send none).</summary>
    public const string NoReceipt = "+15005550200";

    /// <summary>Accepted, then failed with 21610 in the status callback: the person had texted STOP to the carrier.</summary>
    public const string OptedOutAtCarrier = "+15005550610";

    /// <summary>Accepted and kept, but the connection is dropped before the answer: the ambiguous send to reconcile.</summary>
    public const string ConnectionDropsAfterAccept = "+15005550099";

    /// <summary>The first request to this number gets HTTP 429 (code 20429, too many requests); later ones are accepted.</summary>
    public const string BusyOnFirstTry = "+15005550429";

    /// <summary>On WhatsApp, as if outside the 24-hour session window: free text gets 63016, templates are accepted.</summary>
    public const string WhatsAppOutsideWindow = "+15005550163";

    /// <summary>On WhatsApp, Meta's marketing-message block: templates get 63032.</summary>
    public const string WhatsAppMarketingBlock = "+15005550132";

    /// <summary>Twilio's test From number; the carrier reports it as the sender a Messaging Service picked.</summary>
    public const string ServiceSender = "+15005550006";

    internal const string WhatsAppPrefix = "whatsapp:";

    /// <summary>The API error a magic number triggers, or null when the carrier accepts the message.</summary>
    internal static TwilioApiError? RejectionFor(string to) => NumberPart(to) switch
    {
        InvalidNumber => new TwilioApiError(21211, 400, $"Invalid 'To' Phone Number: {to}"),
        CannotRoute => new TwilioApiError(21612, 400, "The 'To' phone number is not currently reachable using the 'From' phone number via SMS."),
        RegionNotEnabled => new TwilioApiError(21408, 400, $"Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}."),
        OptedOut => new TwilioApiError(21610, 400, "Attempt to send to unsubscribed recipient"),
        NotMobile => new TwilioApiError(21614, 400, $"'To' number {to} is not a valid mobile number"),
        _ => null,
    };

    internal static DeliveryOutcome OutcomeFor(string to) => NumberPart(to) switch
    {
        Unreachable => DeliveryOutcome.Undelivered,
        LandlineOrUnreachableCarrier => DeliveryOutcome.Failed,
        OptedOutAtCarrier => DeliveryOutcome.FailedOptedOut,
        NoReceipt => DeliveryOutcome.NoReceipt,
        _ => DeliveryOutcome.Delivered,
    };

    /// <summary>The WhatsApp-only refusals, which depend on whether the message is free text or a template.</summary>
    internal static TwilioApiError? WhatsAppRejectionFor(string to, bool isTemplate) =>
        !IsWhatsApp(to) ? null
        : NumberPart(to) == WhatsAppOutsideWindow && !isTemplate
            ? new TwilioApiError(63016, 400, "Failed to send freeform message because you are outside the allowed window. Please use a Template.")
        : NumberPart(to) == WhatsAppMarketingBlock && isTemplate
            ? new TwilioApiError(63032, 400, "User's number is part of an experiment: message not delivered.")
        : null;

    internal static bool IsBusyOnFirstTry(string to) => NumberPart(to) == BusyOnFirstTry;

    internal static bool DropsConnection(string to) => NumberPart(to) == ConnectionDropsAfterAccept;

    internal static bool IsWhatsApp(string address) => address.StartsWith(WhatsAppPrefix, StringComparison.Ordinal);

    private static string NumberPart(string address) =>
        IsWhatsApp(address) ? address[WhatsAppPrefix.Length..] : address;
}

internal enum DeliveryOutcome
{
    Delivered,
    Undelivered,
    Failed,
    FailedOptedOut,

    /// <summary>Sent, and then nothing.</summary>
    NoReceipt,
}
